/* SPDX-License-Identifier: LGPL-2.1-only */
/* RFC 2449 EXPIRE (altpop_expire, per user through userdb): messages
   retrieved (RETR, or TOP of the whole message) are removed n days after
   their first retrieval, at the start of a later session; with EXPIRE 0
   the ones retrieved in a session go at its QUIT even without DELE.
   A message that was never retrieved is never removed.

   The first retrievals are a state file with the user's mail
   (state-file.h), recorded when the session ends:
     "altpop-retrieved 1" LF { <uidvalidity> "/" <uid> TAB <unix time> LF }
   Entries whose message is gone (or whose UIDVALIDITY changed) are dropped
   at the next session start. */

#include "lib.h"
#include "ioloop.h"
#include "hash.h"
#include "str.h"
#include "strnum.h"
#include "mail-storage.h"
#include "mail-search-build.h"
#include "expire-policy.h"
#include "state-file.h"
#include "altpop-client.h"

#define ALTPOP_RETRIEVED_FNAME "dovecot-altpop-retrieved"
#define ALTPOP_RETRIEVED_HEADER "altpop-retrieved 1"
#define ALTPOP_SECS_PER_DAY (24*60*60)

HASH_TABLE_DEFINE_TYPE(altpop_retrieved, const char *, const char *);

void altpop_expire_init(struct altpop_client *client)
{
	const char *error;

	if (expire_policy_parse(client->set->altpop_expire,
				&client->expire_days, &error) < 0) {
		/* only a userdb field gets here: the config was checked */
		e_error(client->event, "altpop_expire from userdb: %s: "
			"removing nothing (fix the user's userdb field)",
			error);
		client->expire_days = EXPIRE_POLICY_NEVER;
	}
}

static const char *
altpop_expire_key(struct altpop_client *client, uint32_t uid)
{
	return t_strdup_printf("%u/%u", client->uid_validity, uid);
}

/* Parse content into firsts (strings from the data stack). */
static int altpop_retrieved_parse(const char *content,
				  HASH_TABLE_TYPE(altpop_retrieved) firsts,
				  const char **error_r)
{
	const char *const *lines = t_strsplit(content, "\n");
	time_t stamp;

	if (content[0] == '\0')
		return 0;
	if (strcmp(lines[0], ALTPOP_RETRIEVED_HEADER) != 0) {
		*error_r = "not an altpop-retrieved file (bad first line)";
		return -1;
	}
	for (unsigned int i = 1; lines[i] != NULL; i++) {
		const char *const *fields = t_strsplit(lines[i], "\t");

		if (lines[i][0] == '\0')
			continue;
		if (str_array_length(fields) != 2 ||
		    str_to_time(fields[1], &stamp) < 0) {
			*error_r = t_strdup_printf("line %u is corrupt", i + 1);
			return -1;
		}
		hash_table_update(firsts, fields[0], fields[1]);
	}
	return 0;
}

static void altpop_retrieved_line(string_t *dest, const char *key,
				  const char *stamp)
{
	str_printfa(dest, "%s\t%s\n", key, stamp);
}

static int
altpop_expire_read(struct altpop_client *client,
		   struct altpop_state_file **file_r,
		   HASH_TABLE_TYPE(altpop_retrieved) *firsts_r)
{
	const char *content, *error;

	if (altpop_state_file_lock(client->inbox_ns, ALTPOP_RETRIEVED_FNAME,
				   file_r, &content, &error) < 0) {
		e_error(client->event, "EXPIRE: %s", error);
		return -1;
	}
	hash_table_create(firsts_r, default_pool, 0, str_hash, strcmp);
	if (altpop_retrieved_parse(content, *firsts_r, &error) < 0) {
		e_error(client->event, "EXPIRE: "ALTPOP_RETRIEVED_FNAME": %s: "
			"nothing expires until it is fixed or moved away",
			error);
		hash_table_destroy(firsts_r);
		altpop_state_file_unlock(file_r);
		return -1;
	}
	return 0;
}

static void altpop_expire_write(struct altpop_client *client,
				struct altpop_state_file **file,
				const string_t *content)
{
	const char *error;

	if (altpop_state_file_replace(file, content, &error) < 0)
		e_error(client->event, "EXPIRE: %s", error);
}

/* Expunge the messages whose first retrieval is old enough; keep the
   entries of the others. */
static int altpop_expire_messages(struct altpop_client *client,
				  HASH_TABLE_TYPE(altpop_retrieved) firsts,
				  string_t *keep)
{
	time_t max_age = (time_t)client->expire_days * ALTPOP_SECS_PER_DAY;
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
		const char *key = altpop_expire_key(client, mail->uid);
		const char *value = hash_table_lookup(firsts, key);
		time_t first;

		if (value != NULL && str_to_time(value, &first) == 0) {
			if (ioloop_time - first >= max_age) {
				mail_expunge(mail);
				count++;
			} else {
				altpop_retrieved_line(keep, key, value);
			}
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
	return 0;
}

void altpop_expire_session_start(struct altpop_client *client)
{
	struct mailbox_status status;

	if (client->expire_days < 0)
		return;
	mailbox_get_open_status(client->mailbox, STATUS_UIDVALIDITY, &status);
	client->uid_validity = status.uidvalidity;
	T_BEGIN {
		struct altpop_state_file *file;
		HASH_TABLE_TYPE(altpop_retrieved) firsts;
		string_t *keep;

		if (altpop_expire_read(client, &file, &firsts) == 0) {
			/* grows inside the per-message frames */
			keep = str_new(default_pool, 256);
			str_append(keep, ALTPOP_RETRIEVED_HEADER"\n");
			if (hash_table_count(firsts) == 0)
				altpop_state_file_unlock(&file);
			else if (altpop_expire_messages(client, firsts,
							keep) < 0) {
				e_error(client->event, "EXPIRE: removing "
					"expired messages failed: %s",
					mailbox_get_last_internal_error(
						client->mailbox, NULL));
				altpop_state_file_unlock(&file);
			} else {
				altpop_expire_write(client, &file, keep);
			}
			str_free(&keep);
			hash_table_destroy(&firsts);
		}
	} T_END;
}

void altpop_expire_retrieved(struct altpop_client *client,
			     unsigned int msgnum)
{
	if (client->expire_days < 0 ||
	    ALTPOP_MSGNUM_BIT_IS_SET(client->retrieved_bitmask, msgnum))
		return;
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
	}
}

void altpop_expire_session_end(struct altpop_client *client)
{
	if (client->expire_days < 0 || client->retrieved_count == 0 ||
	    client->mailbox == NULL)
		return;
	T_BEGIN {
		struct altpop_state_file *file;
		HASH_TABLE_TYPE(altpop_retrieved) firsts;
		struct hash_iterate_context *iter;
		const char *key, *value;
		const char *now = dec2str(ioloop_time);
		string_t *content;

		if (altpop_expire_read(client, &file, &firsts) == 0) {
			for (unsigned int i = 0; i < client->messages_count; i++) {
				if (!ALTPOP_MSGNUM_BIT_IS_SET(
					client->retrieved_bitmask, i) ||
				    (client->update_success &&
				     ALTPOP_MSGNUM_BIT_IS_SET(
					client->deleted_bitmask, i)))
					continue;
				key = altpop_expire_key(client,
						altpop_msgnum_to_uid(client, i));
				/* the first retrieval stays */
				if (hash_table_lookup(firsts, key) == NULL)
					hash_table_insert(firsts, key, now);
			}
			content = t_str_new(256);
			str_append(content, ALTPOP_RETRIEVED_HEADER"\n");
			iter = hash_table_iterate_init(firsts);
			while (hash_table_iterate(iter, firsts, &key, &value))
				altpop_retrieved_line(content, key, value);
			hash_table_iterate_deinit(&iter);
			altpop_expire_write(client, &file, content);
			hash_table_destroy(&firsts);
		}
	} T_END;
	/* recorded (or logged why not): once per session */
	client->retrieved_count = 0;
}
