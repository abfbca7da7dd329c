/* SPDX-License-Identifier: LGPL-2.1-only */
/* One POP3 session per maildrop (altpop_lock_session). The lock file has
   the same name stock Dovecot pop3 uses, so an altpop session and a stock
   pop3 session on the same maildrop exclude each other too. */

#include "lib.h"
#include "ioloop.h"
#include "file-dotlock.h"
#include "mail-storage.h"
#include "mail-storage-settings.h"
#include "mail-namespace.h"
#include "mailbox-list.h"
#include "altpop-compat.h"
#include "state-file.h"
#include "altpop-client.h"

#define ALTPOP_LOCK_FNAME "dovecot-pop3-session.lock"
/* a lock not refreshed for this long belongs to a dead session */
#define ALTPOP_LOCK_STALE_SECS (5*60)

static void altpop_session_lock_refresh(struct altpop_client *client)
{
	if (file_dotlock_touch(client->session_dotlock) < 0) {
		altpop_client_send_msg(client, "-ERR [SYS/TEMP]",
				       POP3_MSG_LOCK_REFRESH_FAILED);
		altpop_client_destroy(client, "Couldn't refresh session lock");
	}
}

int altpop_session_lock(struct altpop_client *client)
{
	struct mailbox_list *list = client->inbox_ns->list;
	const struct mail_storage_settings *mail_set =
		altpop_mailbox_list_get_mail_set(list);
	struct dotlock_settings set;
	enum dotlock_create_flags flags = 0;
	const char *dir, *path, *error;
	int ret;

	/* where stock pop3 keeps its session lock: the index root */
	if (altpop_maildrop_dir(list, MAILBOX_LIST_PATH_TYPE_INDEX,
				&dir, &error) < 0) {
		e_error(client->event, "altpop_lock_session: %s (or set "
			"altpop_lock_session = no)", error);
		return -1;
	}
	path = t_strdup_printf("%s/"ALTPOP_LOCK_FNAME, dir);

	i_zero(&set);
	/* stock pop3 waits 10 s for the lock; a session answered [IN-USE]
	   at once lets the client retry without holding a process */
	set.timeout = client->set->altpop_lock_session_wait;
	if (set.timeout == 0)
		flags |= DOTLOCK_CREATE_FLAG_NONBLOCK;
	set.stale_timeout = ALTPOP_LOCK_STALE_SECS;
	set.lock_suffix = "";
	set.use_io_notify = TRUE;
	set.use_excl_lock = mail_set->dotlock_use_excl;
	set.nfs_flush = mail_set->mail_nfs_storage;

	ret = file_dotlock_create(&set, path, flags, &client->session_dotlock);
	if (ret < 0) {
		e_error(client->event, "altpop_lock_session: "
			"file_dotlock_create(%s) failed: %m", path);
	} else if (ret > 0) {
		client->to_session_lock_refresh =
			timeout_add(ALTPOP_LOCK_STALE_SECS * 1000,
				    altpop_session_lock_refresh, client);
	}
	return ret;
}

void altpop_session_unlock(struct altpop_client *client)
{
	timeout_remove(&client->to_session_lock_refresh);
	if (client->session_dotlock != NULL)
		file_dotlock_delete(&client->session_dotlock);
}
