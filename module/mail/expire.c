/* SPDX-License-Identifier: LGPL-2.1-only */
/* RFC 2449 EXPIRE (altpop_expire, per user through userdb): messages
   retrieved (RETR, or TOP of the whole message) are removed n days after
   their first retrieval, at the start of a later session; with EXPIRE 0
   the ones retrieved in a session go at its QUIT even without DELE.
   A message that was never retrieved is never removed.

   The first retrievals are a state file with the user's mail
   (state-file.h) in the format of retrieved-file.h, recorded when the
   session ends. Entries whose message is gone (or whose UIDVALIDITY
   changed) are dropped at the next session start. The file is rewritten
   only when what it holds changes. */

#include "lib.h"
#include "ioloop.h"
#include "array.h"
#include "str.h"
#include "mail-storage.h"
#include "mail-search-build.h"
#include "expire-policy.h"
#include "retrieved-file.h"
#include "state-file.h"
#include "altpop-client.h"

#define ALTPOP_RETRIEVED_FNAME "dovecot-altpop-retrieved"

/* altpop_expire_finished: count messages were removed (at the session's
   start, or by QUIT with EXPIRE 0), kept retrievals still wait; error is
   NULL unless removing failed */
static void altpop_expire_event(struct altpop_client *client,
				const char *when, unsigned int count,
				unsigned int kept, const char *error)
{
	struct event *event = altpop_event_create(client->event,
						  "altpop_expire_finished");

	event_add_str(event, "expire_at", when);
	event_add_int(event, "expire_days", client->expire_days);
	event_add_int(event, "expunged_count", count);
	event_add_int(event, "kept_count", kept);
	if (error != NULL)
		event_add_str(event, "error", error);
	e_debug(event, "EXPIRE at %s: %u messages removed, %u kept%s%s",
		when, count, kept, error == NULL ? "" : ": ",
		error == NULL ? "" : error);
	event_unref(&event);
}

void altpop_expire_init(struct altpop_client *client)
{
	/* the user's value (userdb fields included), parsed by the settings
	   check */
	client->expire_days = client->set->parsed_expire_days;
}

static int
altpop_expire_read(struct altpop_client *client,
		   struct altpop_state_file **file_r,
		   ARRAY_TYPE(retrieved_entry) *entries)
{
	const buffer_t *content;
	const char *error;

	if (altpop_state_file_lock(client->inbox_ns, ALTPOP_RETRIEVED_FNAME,
				   file_r, &content, &error) < 0) {
		e_error(client->event, "EXPIRE: %s", error);
		return -1;
	}
	if (retrieved_file_parse(content->data, content->used, entries,
				 &error) < 0) {
		e_error(client->event, "EXPIRE: "ALTPOP_RETRIEVED_FNAME": %s: "
			"nothing expires until it is fixed or moved away",
			error);
		altpop_state_file_unlock(file_r);
		return -1;
	}
	return 0;
}

static void altpop_expire_write(struct altpop_client *client,
				struct altpop_state_file **file,
				const ARRAY_TYPE(retrieved_entry) *entries)
{
	string_t *content = t_str_new(256);
	const char *error;

	retrieved_file_write(content, entries);
	if (altpop_state_file_replace(file, content, &error) < 0)
		e_error(client->event, "EXPIRE: %s", error);
}

/* Expunge the messages whose first retrieval is old enough; keep the
   entries of the others in keep (in entries' order). */
static int
altpop_expire_messages(struct altpop_client *client,
		       const ARRAY_TYPE(retrieved_entry) *entries,
		       ARRAY_TYPE(retrieved_entry) *keep)
{
	struct mailbox_transaction_context *t;
	struct mail_search_args *args;
	struct mail_search_context *ctx;
	struct mail *mail;
	unsigned int count = 0;

	t = mailbox_transaction_begin(client->mailbox, 0, __func__);
	args = mail_search_build_init();
	mail_search_build_add_all(args);
	ctx = mailbox_search_init(t, args, NULL, 0, NULL);
	mail_search_args_unref(&args);
	while (mailbox_search_next(ctx, &mail)) T_BEGIN {
		const struct retrieved_entry *entry =
			retrieved_entries_find(entries,
					       altpop_inbox(client)->uid_validity,
					       mail->uid);

		if (entry == NULL) {
			/* never retrieved: stays */
		} else if (expire_policy_is_due(client->expire_days,
					      entry->first, ioloop_time)) {
			mail_expunge(mail);
			count++;
		} else {
			/* UIDs come in ascending order: keep stays sorted */
			array_push_back(keep, entry);
		}
	} T_END;
	if (mailbox_search_deinit(&ctx) < 0) {
		mailbox_transaction_rollback(&t);
		return -1;
	}
	if (mailbox_transaction_commit(&t) < 0 ||
	    mailbox_sync(client->mailbox, 0) < 0)
		return -1;
	client->expired_count += count;
	if (count > 0) {
		altpop_expire_event(client, "session_start", count,
				    array_count(keep), NULL);
	}
	return 0;
}

void altpop_expire_session_start(struct altpop_client *client)
{
	struct mailbox_status status;

	if (client->expire_days < 0)
		return;
	mailbox_get_open_status(client->mailbox, STATUS_UIDVALIDITY, &status);
	altpop_inbox(client)->uid_validity = status.uidvalidity;
	T_BEGIN {
		struct altpop_state_file *file;
		ARRAY_TYPE(retrieved_entry) entries, keep;

		t_array_init(&entries, 64);
		if (altpop_expire_read(client, &file, &entries) < 0) {
			/* logged */
		} else if (array_count(&entries) == 0) {
			altpop_state_file_unlock(&file);
		} else {
			/* grows inside the per-message frames */
			i_array_init(&keep, array_count(&entries));
			if (altpop_expire_messages(client, &entries,
						   &keep) < 0) {
				const char *error =
					mailbox_get_last_internal_error(
						client->mailbox, NULL);

				e_error(client->event, "EXPIRE: removing "
					"expired messages failed: %s", error);
				altpop_expire_event(client, "session_start", 0,
						    array_count(&entries),
						    error);
				altpop_state_file_unlock(&file);
			} else if (array_count(&keep) ==
				   array_count(&entries)) {
				/* keep is a part of entries: all of it */
				altpop_state_file_unlock(&file);
			} else {
				altpop_expire_write(client, &file, &keep);
			}
			array_free(&keep);
		}
	} T_END;
}

void altpop_expire_retrieved(struct altpop_client *client,
			     unsigned int msgnum)
{
	if (client->expire_days < 0 ||
	    ALTPOP_MSGNUM_BIT_IS_SET(client->retrieved_bitmask, msgnum) ||
	    altpop_msgnum_folder(client, msgnum) != altpop_inbox(client))
		return;	/* EXPIRE counts INBOX's messages only */
	if (client->retrieved_bitmask == NULL) {
		client->retrieved_bitmask =
			i_malloc(ALTPOP_BITMASK_SIZE(client->messages_count));
	}
	ALTPOP_MSGNUM_BIT_SET(client->retrieved_bitmask, msgnum);
	client->retrieved_count++;
}

void altpop_expire_quit(struct altpop_client *client)
{
	if (client->expire_days != 0 || client->retrieved_count == 0)
		return;
	if (client->deleted_bitmask == NULL) {
		client->deleted_bitmask =
			i_malloc(ALTPOP_BITMASK_SIZE(client->messages_count));
	}
	for (unsigned int i = 0; i < client->messages_count; i++) {
		if (!ALTPOP_MSGNUM_BIT_IS_SET(client->retrieved_bitmask, i) ||
		    ALTPOP_MSGNUM_BIT_IS_SET(client->deleted_bitmask, i))
			continue;
		ALTPOP_MSGNUM_BIT_SET(client->deleted_bitmask, i);
		client->deleted_count++;
		client->deleted_size += client->message_sizes[i];
		client->expired_count++;
		client->expire_quit_count++;
	}
}

void altpop_expire_session_end(struct altpop_client *client)
{
	if (client->expire_quit_count > 0 && client->update_success) {
		/* QUIT removed them */
		altpop_expire_event(client, "quit", client->expire_quit_count,
				    0, NULL);
		client->expire_quit_count = 0;
	}
	if (client->expire_days < 0 || client->retrieved_count == 0 ||
	    client->mailbox == NULL)
		return;
	T_BEGIN {
		struct altpop_state_file *file;
		ARRAY_TYPE(retrieved_entry) entries;
		bool changed = FALSE;

		t_array_init(&entries, 64);
		if (altpop_expire_read(client, &file, &entries) == 0) {
			for (unsigned int i = 0; i < client->messages_count; i++) {
				if (!ALTPOP_MSGNUM_BIT_IS_SET(
					client->retrieved_bitmask, i) ||
				    (client->update_success &&
				     ALTPOP_MSGNUM_BIT_IS_SET(
					client->deleted_bitmask, i)))
					continue;
				/* the first retrieval stays */
				if (retrieved_entries_add(&entries,
						altpop_inbox(client)->uid_validity,
						altpop_msgnum_to_uid(client, i),
						ioloop_time))
					changed = TRUE;
			}
			if (changed)
				altpop_expire_write(client, &file, &entries);
			else
				altpop_state_file_unlock(&file);
		}
	} T_END;
	/* recorded (or logged why not): once per session */
	client->retrieved_count = 0;
}
