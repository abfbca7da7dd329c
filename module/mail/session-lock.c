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
#include "altpop-client.h"

#define ALTPOP_LOCK_FNAME "dovecot-pop3-session.lock"
/* a lock not refreshed for this long belongs to a dead session */
#define ALTPOP_LOCK_STALE_SECS (5*60)

static void altpop_session_lock_refresh(struct altpop_client *client)
{
	if (file_dotlock_touch(client->session_dotlock) < 0) {
		altpop_client_send_line(client,
			"-ERR [SYS/TEMP] Couldn't refresh the maildrop lock.");
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
	enum mailbox_list_path_type type;
	const char *dir, *path;
	int ret;

	if (mailbox_list_get_root_path(list, MAILBOX_LIST_PATH_TYPE_INDEX, &dir))
		type = MAILBOX_LIST_PATH_TYPE_INDEX;
	else if (mailbox_list_get_root_path(list, MAILBOX_LIST_PATH_TYPE_DIR,
					    &dir))
		type = MAILBOX_LIST_PATH_TYPE_DIR;
	else {
		e_error(client->event, "altpop_lock_session: the mail storage "
			"has no directory for a lock file; set "
			"altpop_lock_session = no");
		return -1;
	}
	if (mailbox_list_mkdir_root(list, dir, type) < 0) {
		e_error(client->event, "altpop_lock_session: Couldn't create "
			"%s: %s", dir,
			mailbox_list_get_last_internal_error(list, NULL));
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
