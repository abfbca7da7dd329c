/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef ALTPOP_STATE_FILE_H
#define ALTPOP_STATE_FILE_H

/* Small per-maildrop state files (the LOGIN-DELAY last login, the EXPIRE
   first retrievals), kept with the user's mail in the mail storage's
   control directory (the mail root unless CONTROL= moves it), so that
   every front server sharing the maildrop sees them.

   A file is changed only under its dotlock (NFS-safe, the same as
   Dovecot's own dotlocks) and replaced whole with rename(): readers see
   the old or the new content, never a mix, and two sessions changing it
   at the same time (on the same or on different servers) are serialised. */

#include "mailbox-list.h"

struct dotlock;
struct mail_namespace;
struct altpop_state_file;

/* The directory for a per-maildrop file of altpop's: the mail storage's
   root of type (falling back to the mail root), created if missing.
   Returns 0, or -1 with *error_r. */
int altpop_maildrop_dir(struct mailbox_list *list,
			enum mailbox_list_path_type type,
			const char **dir_r, const char **error_r);

/* Longest state file read; a longer one is reported as corrupt. */
#define ALTPOP_STATE_FILE_MAX_SIZE (16*1024*1024)
/* lock timing: the lock is held only while the file is read and written */
#define ALTPOP_STATE_FILE_LOCK_TIMEOUT_SECS 10
#define ALTPOP_STATE_FILE_LOCK_STALE_SECS 60

/* Lock fname in ns's control directory and read it: *content_r is what it
   holds (empty when it does not exist yet), allocated from the data
   stack.
   Returns 0, or -1 with *error_r naming the file. */
int altpop_state_file_lock(struct mail_namespace *ns, const char *fname,
			   struct altpop_state_file **file_r,
			   const buffer_t **content_r, const char **error_r);
/* TRUE for an errno of a write the storage refused: out of space or
   quota, an I/O error, a read-only file system (a full or failing disk,
   not a mistake in the setup). */
bool altpop_errno_storage_refused(int err);
/* file_dotlock_replace() that also removes the lock file when the rename
   fails (Dovecot's leaves it behind, and the next writer then waits for
   it to go stale). Returns what file_dotlock_replace() does; errno is the
   rename's on failure. */
int altpop_dotlock_replace(struct dotlock **dotlock);
/* Replace the file's content and unlock it. Returns 0, or -1 with *error_r
   (the file then keeps its old content); ALTPOP_STATE_FILE_UNWRITTEN
   instead of -1 when the storage refused the write
   (altpop_errno_storage_refused()). */
#define ALTPOP_STATE_FILE_UNWRITTEN (-2)
int altpop_state_file_replace(struct altpop_state_file **file,
			      const string_t *content, const char **error_r);
/* Unlock without changing the file. */
void altpop_state_file_unlock(struct altpop_state_file **file);

#endif
