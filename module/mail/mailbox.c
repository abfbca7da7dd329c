/* SPDX-License-Identifier: LGPL-2.1-only */
/* The maildrop: opening INBOX, the message list seen by this session and
   the UPDATE state (RFC 1939 section 6). */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "mail-storage-private.h"
#include "mail-namespace.h"
#include "mail-search-build.h"
#include "mail-user.h"
#include "altpop-client.h"
#include "mail-glue.h"

/* How often to retry reading the maildrop when messages vanish while it
   is being read (another session expunging). */
#define ALTPOP_MAILBOX_READ_TRIES 3

ARRAY_DEFINE_TYPE(altpop_sdps_envelope, struct altpop_sdps_envelope);

/* The message list while the maildrop is read */
struct altpop_mailbox_list {
	ARRAY(uoff_t) sizes;
	/* created at the first message whose sequence is not its POP3
	   number, with the ones before it filled in */
	ARRAY(uint32_t) seqs;
	ARRAY_TYPE(altpop_sdps_envelope) envelopes;
	/* messages in the mailbox, to size the arrays */
	unsigned int expected;
};

static enum mail_sort_type altpop_sort_pop3_order[] = {
	MAIL_SORT_POP3_ORDER,
	MAIL_SORT_END
};

uint32_t altpop_msgnum_to_seq(struct altpop_client *client, unsigned int msgnum)
{
	i_assert(msgnum < client->messages_count);
	return client->msgnum_to_seq == NULL ? msgnum + 1 :
		client->msgnum_to_seq[msgnum];
}

uint32_t altpop_msgnum_to_uid(struct altpop_client *client, unsigned int msgnum)
{
	uint32_t uid;

	/* the view's sequences stay as they were at login: the session does
	   not sync its mailbox before QUIT */
	mail_index_lookup_uid(client->mailbox->view,
			      altpop_msgnum_to_seq(client, msgnum), &uid);
	return uid;
}

struct mail_search_args *
altpop_mailbox_search_build(struct altpop_client *client, uint32_t last_seq)
{
	struct mail_search_args *args = mail_search_build_init();
	struct mail_search_arg *sarg;

	if (last_seq == 0)
		mail_search_build_add_all(args);
	else
		mail_search_build_add_seqset(args, 1, last_seq);
	if (client->deleted_kw != NULL) {
		/* what an earlier session's DELE flagged is gone for POP3 */
		sarg = mail_search_build_add(args, SEARCH_KEYWORDS);
		sarg->match_not = TRUE;
		sarg->value.str = p_strdup(args->pool,
					   client->set->altpop_deleted_flag);
		mail_search_args_init(args, client->mailbox, TRUE, NULL);
	}
	return args;
}

static void
altpop_mailbox_list_add_seq(struct altpop_mailbox_list *list, uint32_t seq)
{
	unsigned int count = array_count(&list->sizes);

	if (!array_is_created(&list->seqs)) {
		if (seq == count + 1)
			return;
		i_array_init(&list->seqs, I_MAX(list->expected, count + 1));
		for (uint32_t s = 1; s <= count; s++)
			array_push_back(&list->seqs, &s);
	}
	array_push_back(&list->seqs, &seq);
}

static void altpop_mailbox_list_free(struct altpop_mailbox_list *list)
{
	array_free(&list->sizes);
	if (array_is_created(&list->seqs))
		array_free(&list->seqs);
	if (array_is_created(&list->envelopes))
		array_free(&list->envelopes);
}

/* The message's POP3 size: exact (its size with CRLF line ends), or with
   altpop_fast_size_lookups what the storage has at hand without reading
   the message (the cached exact size, else the size on disk, which for a
   file with LF line ends is smaller), reading it only when neither is
   there. */
static int altpop_mail_get_size(struct altpop_client *client,
				struct mail *mail, uoff_t *size_r)
{
	int ret;

	if (!client->set->altpop_fast_size_lookups)
		return mail_get_virtual_size(mail, size_r);
	mail->lookup_abort = MAIL_LOOKUP_ABORT_READ_MAIL;
	ret = mail_get_virtual_size(mail, size_r);
	if (ret < 0 && mailbox_get_last_mail_error(mail->box) ==
	    MAIL_ERROR_LOOKUP_ABORTED)
		ret = mail_get_physical_size(mail, size_r);
	mail->lookup_abort = MAIL_LOOKUP_ABORT_NEVER;
	if (ret < 0 && mailbox_get_last_mail_error(mail->box) ==
	    MAIL_ERROR_LOOKUP_ABORTED)
		ret = mail_get_virtual_size(mail, size_r);
	return ret;
}

/* Add one message to the list (and its envelope for SDPS), unless it is
   outside the SDPS view. Returns 1 on success, 0 if it vanished, -1 on
   error. Anything kept goes to the arrays or the client's pool. */
static int
altpop_mailbox_read_mail(struct altpop_client *client, struct mail *mail,
			 struct altpop_mailbox_list *list)
{
	struct altpop_sdps_envelope env;
	bool in_view = TRUE;
	uoff_t size;

	if (client->sdps &&
	    altpop_sdps_message_envelope(client, mail, &in_view, &env) < 0)
		return mail->expunged ? 0 : -1;
	if (!in_view)
		return 1;
	if (altpop_mail_get_size(client, mail, &size) < 0)
		return mail->expunged ? 0 : -1;
	if (client->sdps) {
		/* RETR sends the added Return-Path line too */
		if (env.return_path_line != NULL)
			size += strlen(env.return_path_line);
		array_push_back(&list->envelopes, &env);
	}
	if (client->set->altpop_enable_last &&
	    (mail_get_flags(mail) & MAIL_SEEN) != 0)
		client->last_seen_msn = array_count(&list->sizes) + 1;
	altpop_mailbox_list_add_seq(list, mail->seq);
	array_push_back(&list->sizes, &size);
	client->total_size += size;
	if (client->highest_seq < mail->seq)
		client->highest_seq = mail->seq;
	return 1;
}

/* Returns 1 on success, 0 if a message vanished, -1 on error. */
static int altpop_mailbox_read(struct altpop_client *client,
			       uint32_t *failed_uid_r)
{
	struct mailbox_status status;
	struct mailbox_transaction_context *t;
	struct mail_search_args *search_args;
	struct mail_search_context *ctx;
	struct mail *mail;
	struct altpop_mailbox_list list;
	struct mailbox_header_lookup_ctx *headers = NULL;
	int ret = 1;

	*failed_uid_r = 0;
	i_zero(&list);
	mailbox_get_open_status(client->mailbox, STATUS_UIDVALIDITY |
				STATUS_MESSAGES, &status);
	client->uid_validity = status.uidvalidity;

	t = mailbox_transaction_begin(client->mailbox, 0, __func__);
	search_args = altpop_mailbox_search_build(client, 0);
	if (client->sdps) {
		headers = altpop_sdps_headers_init(client);
		i_array_init(&list.envelopes, I_MAX(status.messages, 1));
	}
	ctx = mailbox_search_init(t, search_args, altpop_sort_pop3_order,
				  client->set->altpop_fast_size_lookups ? 0 :
				  MAIL_FETCH_VIRTUAL_SIZE, headers);
	mail_search_args_unref(&search_args);

	list.expected = status.messages;
	i_array_init(&list.sizes, I_MAX(status.messages, 1));
	client->total_size = 0;
	client->highest_seq = 0;
	client->last_seen_msn = 0;
	while (ret > 0 && mailbox_search_next(ctx, &mail)) {
		/* a frame per message: what is looked at for one message
		   (SDPS envelope headers) must not pile up with the size of
		   the maildrop */
		T_BEGIN {
			ret = altpop_mailbox_read_mail(client, mail, &list);
		} T_END;
		if (ret <= 0)
			*failed_uid_r = mail->uid;
	}
	if (mailbox_search_deinit(&ctx) < 0)
		ret = -1;
	if (headers != NULL)
		mailbox_header_lookup_unref(&headers);
	if (ret <= 0) {
		/* commit: keeps the sizes we did compute in the cache */
		(void)mailbox_transaction_commit(&t);
		altpop_mailbox_list_free(&list);
		return ret;
	}
	if (array_is_created(&list.envelopes))
		client->sdps_envelopes = array_free_without_data(&list.envelopes);
	if (array_is_created(&list.seqs))
		client->msgnum_to_seq = array_free_without_data(&list.seqs);
	client->messages_count = array_count(&list.sizes);
	client->message_sizes = array_free_without_data(&list.sizes);
	client->trans = t;

	return 1;
}

static int altpop_mailbox_sync_read(struct altpop_client *client,
				    const char **error_r)
{
	uint32_t failed_uid = 0, last_failed_uid = 0;
	int ret = -1;

	for (unsigned int i = 0; i < ALTPOP_MAILBOX_READ_TRIES; i++) {
		if (mailbox_sync(client->mailbox,
				 MAILBOX_SYNC_FLAG_FULL_READ) < 0) {
			ret = -1;
			break;
		}
		last_failed_uid = failed_uid;
		if ((ret = altpop_mailbox_read(client, &failed_uid)) > 0)
			return 0;
		if (ret < 0)
			break;
	}
	if (ret < 0) {
		*error_r = t_strdup_printf("Couldn't read INBOX: %s",
			mailbox_get_last_internal_error(client->mailbox, NULL));
		altpop_client_send_storage_error(client);
	} else {
		*error_r = failed_uid == last_failed_uid ?
			t_strdup_printf("Getting size of message UID=%u failed",
					failed_uid) :
			"Couldn't sync INBOX: messages keep getting expunged";
		altpop_client_send_msg(client, "-ERR [SYS/TEMP]",
				       POP3_MSG_SYNC_FAILED);
	}
	return -1;
}

static int altpop_mailbox_deleted_kw_init(struct altpop_client *client,
					  const char **error_r)
{
	const char *keywords[] = { client->set->altpop_deleted_flag, NULL };

	if (keywords[0][0] == '\0')
		return 0;
	if (mailbox_keywords_create(client->mailbox, keywords,
				    &client->deleted_kw) < 0) {
		*error_r = t_strdup_printf("altpop_deleted_flag: invalid "
			"keyword '%s': %s", keywords[0],
			mailbox_get_last_internal_error(client->mailbox, NULL));
		altpop_client_send_storage_error(client);
		return -1;
	}
	return 0;
}

int altpop_mailbox_open(struct altpop_client *client, const char **error_r)
{
	enum mailbox_flags flags = MAILBOX_FLAG_POP3_SESSION;
	int ret;

	client->inbox_ns = mail_namespace_find_inbox(client->user->namespaces);
	i_assert(client->inbox_ns != NULL);

	if (client->set->altpop_lock_session) {
		if ((ret = altpop_session_lock(client)) <= 0) {
			if (ret < 0) {
				altpop_client_send_msg(client,
					"-ERR [SYS/TEMP]",
					POP3_MSG_LOCK_CREATE_FAILED);
			} else {
				altpop_client_send_msg(client, "-ERR [IN-USE]",
						       POP3_MSG_MAILBOX_IN_USE);
			}
			*error_r = ret < 0 ? "Couldn't lock the maildrop" :
				"Maildrop is in use by another session "
				"(altpop_lock_session = yes)";
			return -1;
		}
	}

	if (!client->set->altpop_no_flag_updates)
		flags |= MAILBOX_FLAG_DROP_RECENT;
	client->mailbox = mailbox_alloc(client->inbox_ns->list, "INBOX", flags);
	if (mailbox_open(client->mailbox) < 0) {
		*error_r = t_strdup_printf("Couldn't open INBOX: %s",
			mailbox_get_last_internal_error(client->mailbox, NULL));
		altpop_client_send_storage_error(client);
		return -1;
	}
	if (altpop_mailbox_deleted_kw_init(client, error_r) < 0)
		return -1;
	altpop_expire_session_start(client);
	if (altpop_mailbox_sync_read(client, error_r) < 0)
		return -1;

	if (!client->set->altpop_no_flag_updates && client->messages_count > 0) {
		client->seen_bitmask =
			i_malloc(ALTPOP_BITMASK_SIZE(client->messages_count));
	}
	altpop_mail_glue_anvil_connect(client);
	return 0;
}

/* type: SEARCH_SEQSET or SEARCH_UIDSET */
static struct mail_search_args *
altpop_search_seqs(const ARRAY_TYPE(seq_range) *seqs,
		   enum mail_search_arg_type type)
{
	struct mail_search_args *args = mail_search_build_init();
	struct mail_search_arg *sarg;

	sarg = mail_search_build_add(args, type);
	p_array_init(&sarg->value.seqset, args->pool, array_count(seqs));
	array_append_array(&sarg->value.seqset, seqs);
	return args;
}

enum altpop_mailbox_change {
	ALTPOP_MAILBOX_DELETE,
	ALTPOP_MAILBOX_SEE,
	ALTPOP_MAILBOX_UNSEE,
};

static bool altpop_mailbox_apply(struct altpop_client *client,
				 const ARRAY_TYPE(seq_range) *seqs,
				 enum altpop_mailbox_change change)
{
	struct mail_search_args *args =
		altpop_search_seqs(seqs, SEARCH_SEQSET);
	struct mail_search_context *ctx;
	struct mail *mail;

	ctx = mailbox_search_init(client->trans, args, NULL, 0, NULL);
	mail_search_args_unref(&args);
	while (mailbox_search_next(ctx, &mail)) {
		switch (change) {
		case ALTPOP_MAILBOX_DELETE:
			if (client->set->parsed_delete_type ==
			    POP3_DELETE_TYPE_FLAG) {
				/* the message stays, out of POP3's sight */
				mail_update_keywords(mail, MODIFY_ADD,
						     client->deleted_kw);
				break;
			}
			mail_expunge(mail);
			seq_range_array_add(&client->expunged_uids, mail->uid);
			break;
		case ALTPOP_MAILBOX_SEE:
			mail_update_flags(mail, MODIFY_ADD, MAIL_SEEN);
			break;
		case ALTPOP_MAILBOX_UNSEE:
			mail_update_flags(mail, MODIFY_REMOVE, MAIL_SEEN);
			break;
		}
	}
	return mailbox_search_deinit(&ctx) == 0;
}

int altpop_mailbox_expunge_check(struct altpop_client *client,
				 unsigned int *count_r, uoff_t *size_r)
{
	struct mailbox_transaction_context *t;
	struct mail_search_args *args;
	struct mail_search_context *ctx;
	struct mail *mail;
	uoff_t size;
	int ret = 0;

	*count_r = 0;
	*size_r = 0;
	if (!array_is_created(&client->expunged_uids) ||
	    array_count(&client->expunged_uids) == 0)
		return 0;

	args = altpop_search_seqs(&client->expunged_uids, SEARCH_UIDSET);
	t = mailbox_transaction_begin(client->mailbox, 0, __func__);
	ctx = mailbox_search_init(t, args, NULL, MAIL_FETCH_VIRTUAL_SIZE,
				  NULL);
	mail_search_args_unref(&args);
	while (mailbox_search_next(ctx, &mail)) {
		if (mail->expunged)
			continue;
		(*count_r)++;
		if (mail_get_virtual_size(mail, &size) == 0)
			*size_r += size;
	}
	if (mailbox_search_deinit(&ctx) < 0)
		ret = -1;
	(void)mailbox_transaction_commit(&t);
	return ret;
}

bool altpop_mailbox_update(struct altpop_client *client)
{
	ARRAY_TYPE(seq_range) deleted, seen;
	bool ok = TRUE;

	if (mailbox_is_readonly(client->mailbox))
		return TRUE;

	t_array_init(&deleted, 8);
	t_array_init(&seen, 8);
	if (client->quit_seen && !array_is_created(&client->expunged_uids))
		p_array_init(&client->expunged_uids, client->pool, 8);
	for (unsigned int i = 0; i < client->messages_count; i++) {
		uint32_t seq = altpop_msgnum_to_seq(client, i);

		if (client->quit_seen &&
		    ALTPOP_MSGNUM_BIT_IS_SET(client->deleted_bitmask, i))
			seq_range_array_add(&deleted, seq);
		else if (ALTPOP_MSGNUM_BIT_IS_SET(client->seen_bitmask, i))
			seq_range_array_add(&seen, seq);
	}
	if (array_count(&deleted) > 0 &&
	    !altpop_mailbox_apply(client, &deleted, ALTPOP_MAILBOX_DELETE))
		ok = FALSE;
	if (array_count(&seen) > 0 &&
	    !altpop_mailbox_apply(client, &seen, ALTPOP_MAILBOX_SEE))
		ok = FALSE;
	client->seen_change_count = 0;
	return ok;
}

bool altpop_mailbox_unsee_all(struct altpop_client *client)
{
	ARRAY_TYPE(seq_range) seqs;
	bool ok;

	if (mailbox_is_readonly(client->mailbox) ||
	    client->messages_count == 0)
		return TRUE;
	t_array_init(&seqs, 8);
	for (unsigned int i = 0; i < client->messages_count; i++)
		seq_range_array_add(&seqs, altpop_msgnum_to_seq(client, i));
	ok = altpop_mailbox_apply(client, &seqs, ALTPOP_MAILBOX_UNSEE);
	/* at once, as RFC 1460 has it: a session that ends without QUIT
	   keeps the change */
	if (mailbox_transaction_commit(&client->trans) < 0)
		ok = FALSE;
	client->trans = mailbox_transaction_begin(client->mailbox, 0,
						  __func__);
	return ok;
}
