/* SPDX-License-Identifier: LGPL-2.1-only */
/* Small per-maildrop state files, changed under a dotlock and replaced
   atomically (state-file.h). */

#include "lib.h"
#include "buffer.h"
#include "istream.h"
#include "ostream.h"
#include "str.h"
#include "write-full.h"
#include "file-dotlock.h"
#include "mail-storage.h"
#include "mail-storage-settings.h"
#include "mail-namespace.h"
#include "mailbox-list.h"
#include "altpop-compat.h"
#include "state-file.h"

#include <unistd.h>

struct altpop_state_file {
	char *path;
	struct dotlock *dotlock;
	int fd;
};

int altpop_maildrop_dir(struct mailbox_list *list,
			enum mailbox_list_path_type type,
			const char **dir_r, const char **error_r)
{
	if (!mailbox_list_get_root_path(list, type, dir_r)) {
		type = MAILBOX_LIST_PATH_TYPE_DIR;
		if (!mailbox_list_get_root_path(list, type, dir_r)) {
			*error_r = "the mail storage has no directory for "
				"altpop's files";
			return -1;
		}
	}
	if (mailbox_list_mkdir_root(list, *dir_r, type) < 0) {
		*error_r = t_strdup_printf("Couldn't create %s: %s", *dir_r,
			mailbox_list_get_last_internal_error(list, NULL));
		return -1;
	}
	return 0;
}

static int altpop_state_file_read(const char *path,
				  const buffer_t **content_r,
				  const char **error_r)
{
	struct istream *input;
	buffer_t *buf = t_buffer_create(256);
	const unsigned char *data;
	size_t size;
	int ret;

	input = i_stream_create_file(path, IO_BLOCK_SIZE);
	while ((ret = i_stream_read_more(input, &data, &size)) > 0) {
		if (buf->used + size > ALTPOP_STATE_FILE_MAX_SIZE) {
			*error_r = t_strdup_printf("%s is larger than %u bytes: "
				"corrupt? (move it away to start afresh)", path,
				ALTPOP_STATE_FILE_MAX_SIZE);
			i_stream_unref(&input);
			return -1;
		}
		buffer_append(buf, data, size);
		i_stream_skip(input, size);
	}
	if (input->stream_errno != 0 && input->stream_errno != ENOENT) {
		*error_r = t_strdup_printf("read(%s) failed: %s", path,
					   i_stream_get_error(input));
		i_stream_unref(&input);
		return -1;
	}
	i_stream_unref(&input);
	*content_r = buf;
	return 0;
}

int altpop_state_file_lock(struct mail_namespace *ns, const char *fname,
			   struct altpop_state_file **file_r,
			   const buffer_t **content_r, const char **error_r)
{
	const struct mail_storage_settings *mail_set =
		altpop_mailbox_list_get_mail_set(ns->list);
	struct altpop_state_file *file;
	struct dotlock_settings set;
	const char *dir, *path;

	if (altpop_maildrop_dir(ns->list, MAILBOX_LIST_PATH_TYPE_CONTROL,
				&dir, error_r) < 0)
		return -1;
	path = t_strdup_printf("%s/%s", dir, fname);

	i_zero(&set);
	set.timeout = ALTPOP_STATE_FILE_LOCK_TIMEOUT_SECS;
	set.stale_timeout = ALTPOP_STATE_FILE_LOCK_STALE_SECS;
	set.use_excl_lock = mail_set->dotlock_use_excl;
	set.nfs_flush = mail_set->mail_nfs_storage;

	file = i_new(struct altpop_state_file, 1);
	file->fd = file_dotlock_open(&set, path, 0, &file->dotlock);
	if (file->fd == -1) {
		*error_r = t_strdup_printf("file_dotlock_open(%s) failed: %m",
					   path);
		i_free(file);
		return -1;
	}
	file->path = i_strdup(path);
	*file_r = file;
	if (altpop_state_file_read(path, content_r, error_r) < 0) {
		altpop_state_file_unlock(file_r);
		return -1;
	}
	return 0;
}

static void altpop_state_file_free(struct altpop_state_file **_file)
{
	struct altpop_state_file *file = *_file;

	*_file = NULL;
	if (file->dotlock != NULL)
		file_dotlock_delete(&file->dotlock);
	i_free(file->path);
	i_free(file);
}

bool altpop_errno_storage_refused(int err)
{
	return ENOSPACE(err) || err == EIO || err == EROFS;
}

int altpop_dotlock_replace(struct dotlock **dotlock)
{
	const char *lock_path = t_strdup(file_dotlock_get_lock_path(*dotlock));
	int ret, err;

	if ((ret = file_dotlock_replace(dotlock, 0)) >= 0)
		return ret;
	err = errno;
	/* ENOENT: the lock file was gone, and by now it may be another
	   writer's */
	if (err != ENOENT)
		i_unlink_if_exists(lock_path);
	errno = err;
	return -1;
}

int altpop_state_file_replace(struct altpop_state_file **_file,
			      const string_t *content, const char **error_r)
{
	struct altpop_state_file *file = *_file;
	const char *func = NULL;
	int ret = 0, err = 0;

	if (write_full(file->fd, str_data(content), str_len(content)) < 0)
		func = "write";
	else if (fdatasync(file->fd) < 0)
		func = "fdatasync";
	else if (altpop_dotlock_replace(&file->dotlock) < 0)
		func = "rename";
	if (func != NULL) {
		err = errno;
		*error_r = t_strdup_printf("%s(%s) failed: %s", func,
					   file->path, strerror(err));
		ret = altpop_errno_storage_refused(err) ?
			ALTPOP_STATE_FILE_UNWRITTEN : -1;
	}
	/* on failure this deletes the new file: the old one stays whole */
	altpop_state_file_free(_file);
	return ret;
}

void altpop_state_file_unlock(struct altpop_state_file **file)
{
	if (*file != NULL)
		altpop_state_file_free(file);
}
