/* SPDX-License-Identifier: LGPL-2.1-only */
/* The maildrop: opening INBOX (and the other folders altpop_folders
   names), the message list seen by this session and the UPDATE state
   (RFC 1939 section 6). The folders' messages follow each other in the
   order the setting names them; each message's folder and sequence
   there is found from its POP3 number. */

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

struct altpop_folder *altpop_inbox(struct altpop_client *client)
{
	return array_idx_modifiable(&client->folders, 0);
}

struct altpop_folder *
altpop_msgnum_folder(struct altpop_client *client, unsigned int msgnum)
{
	struct altpop_folder *folder;

	i_assert(msgnum < client->messages_count);
	array_foreach_modifiable(&client->folders, folder) {
		if (msgnum < folder->first_msgnum + folder->count)
			return folder;
	}
	i_unreached();
}

bool altpop_mailbox_sync_all(struct altpop_client *client)
{
	struct altpop_folder *folder;
	bool ok = TRUE;

	array_foreach_modifiable(&client->folders, folder) {
		if (mailbox_sync(folder->box,
				 ALTPOP_MAILBOX_SYNC_FLAG_FULL_WRITE) < 0)
			ok = FALSE;
	}
	return ok;
}

bool altpop_mailbox_commit_all(struct altpop_client *client, bool begin_new)
{
	struct altpop_folder *folder;
	bool ok = TRUE;

	array_foreach_modifiable(&client->folders, folder) {
		if (folder->trans == NULL)
			continue;
		if (mailbox_transaction_commit(&folder->trans) < 0)
			ok = FALSE;
		if (begin_new) {
			folder->trans = mailbox_transaction_begin(folder->box,
								  0, __func__);
		}
	}
	return ok;
}

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
	mail_index_lookup_uid(altpop_msgnum_folder(client, msgnum)->box->view,
			      altpop_msgnum_to_seq(client, msgnum), &uid);
	return uid;
}

struct mail_search_args *
altpop_mailbox_search_build(struct altpop_client *client,
			    struct altpop_folder *folder, uint32_t last_seq)
{
	struct mail_search_args *args = mail_search_build_init();
	struct mail_search_arg *sarg;

	if (last_seq == 0)
		mail_search_build_add_all(args);
	else
		mail_search_build_add_seqset(args, 1, last_seq);
	if (folder->deleted_kw != NULL) {
		/* what an earlier session's DELE flagged is gone for POP3 */
		sarg = mail_search_build_add(args, SEARCH_KEYWORDS);
		sarg->match_not = TRUE;
		sarg->value.str = p_strdup(args->pool,
					   client->set->altpop_deleted_flag);
		mail_search_args_init(args, folder->box, TRUE, NULL);
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
altpop_mailbox_read_mail(struct altpop_client *client,
			 struct altpop_folder *folder, struct mail *mail,
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
	folder->count++;
	if (folder->highest_seq < mail->seq)
		folder->highest_seq = mail->seq;
	return 1;
}

/* Append a folder's messages to list. Returns 1 on success, 0 if a
   message vanished, -1 on error. */
static int altpop_mailbox_read_folder(struct altpop_client *client,
				      struct altpop_folder *folder,
				      struct altpop_mailbox_list *list,
				      uint32_t *failed_uid_r)
{
	struct mailbox_status status;
	struct mail_search_args *search_args;
	struct mail_search_context *ctx;
	struct mail *mail;
	struct mailbox_header_lookup_ctx *headers = NULL;
	int ret = 1;

	if (mailbox_sync(folder->box, MAILBOX_SYNC_FLAG_FULL_READ) < 0)
		return -1;
	mailbox_get_open_status(folder->box, STATUS_UIDVALIDITY |
				STATUS_MESSAGES, &status);
	folder->uid_validity = status.uidvalidity;
	folder->first_msgnum = array_count(&list->sizes);
	folder->count = 0;
	folder->highest_seq = 0;
	list->expected += status.messages;

	folder->trans = mailbox_transaction_begin(folder->box, 0, __func__);
	search_args = altpop_mailbox_search_build(client, folder, 0);
	if (client->sdps) {
		/* SDPS sessions show INBOX alone */
		headers = altpop_sdps_headers_init(client);
		i_array_init(&list->envelopes, I_MAX(status.messages, 1));
	}
	ctx = mailbox_search_init(folder->trans, search_args,
				  altpop_sort_pop3_order,
				  client->set->altpop_fast_size_lookups ? 0 :
				  MAIL_FETCH_VIRTUAL_SIZE, headers);
	mail_search_args_unref(&search_args);
	while (ret > 0 && mailbox_search_next(ctx, &mail)) {
		/* a frame per message: what is looked at for one message
		   (SDPS envelope headers) must not pile up with the size of
		   the maildrop */
		T_BEGIN {
			ret = altpop_mailbox_read_mail(client, folder, mail,
						       list);
		} T_END;
		if (ret <= 0)
			*failed_uid_r = mail->uid;
	}
	if (mailbox_search_deinit(&ctx) < 0)
		ret = -1;
	if (headers != NULL)
		mailbox_header_lookup_unref(&headers);
	return ret;
}

/* Read every folder. Returns 1 on success, 0 if a message vanished, -1
   on error (*failed_r: the folder). */
static int altpop_mailbox_read(struct altpop_client *client,
			       struct altpop_folder **failed_r,
			       uint32_t *failed_uid_r)
{
	struct altpop_folder *folder;
	struct altpop_mailbox_list list;
	int ret = 1;

	*failed_uid_r = 0;
	i_zero(&list);
	i_array_init(&list.sizes, 64);
	client->total_size = 0;
	client->last_seen_msn = 0;
	array_foreach_modifiable(&client->folders, folder) {
		*failed_r = folder;
		if ((ret = altpop_mailbox_read_folder(client, folder, &list,
						      failed_uid_r)) <= 0)
			break;
	}
	if (ret <= 0) {
		/* commit: keeps the sizes we did compute in the cache */
		(void)altpop_mailbox_commit_all(client, FALSE);
		altpop_mailbox_list_free(&list);
		return ret;
	}
	if (array_is_created(&list.envelopes))
		client->sdps_envelopes = array_free_without_data(&list.envelopes);
	if (array_is_created(&list.seqs))
		client->msgnum_to_seq = array_free_without_data(&list.seqs);
	client->messages_count = array_count(&list.sizes);
	client->message_sizes = array_free_without_data(&list.sizes);
	return 1;
}

static int altpop_mailbox_sync_read(struct altpop_client *client,
				    const char **error_r)
{
	struct altpop_folder *folder = NULL;
	uint32_t failed_uid = 0, last_failed_uid = 0;
	int ret = -1;

	for (unsigned int i = 0; i < ALTPOP_MAILBOX_READ_TRIES; i++) {
		last_failed_uid = failed_uid;
		if ((ret = altpop_mailbox_read(client, &folder,
					       &failed_uid)) > 0)
			return 0;
		if (ret < 0)
			break;
	}
	if (ret < 0) {
		*error_r = t_strdup_printf("Couldn't read %s: %s",
			mailbox_get_vname(folder->box),
			mailbox_get_last_internal_error(folder->box, NULL));
		altpop_client_send_storage_error(client);
	} else {
		*error_r = failed_uid == last_failed_uid ?
			t_strdup_printf("Getting size of message UID=%u of %s "
					"failed", failed_uid,
					mailbox_get_vname(folder->box)) :
			t_strdup_printf("Couldn't sync %s: messages keep "
					"getting expunged",
					mailbox_get_vname(folder->box));
		altpop_client_send_msg(client, "-ERR [SYS/TEMP]",
				       POP3_MSG_SYNC_FAILED);
	}
	return -1;
}

static int altpop_mailbox_deleted_kw_init(struct altpop_client *client,
					  struct altpop_folder *folder,
					  const char **error_r)
{
	const char *keywords[] = { client->set->altpop_deleted_flag, NULL };

	if (keywords[0][0] == '\0')
		return 0;
	if (mailbox_keywords_create(folder->box, keywords,
				    &folder->deleted_kw) < 0) {
		*error_r = t_strdup_printf("altpop_deleted_flag: invalid "
			"keyword '%s': %s", keywords[0],
			mailbox_get_last_internal_error(folder->box, NULL));
		altpop_client_send_storage_error(client);
		return -1;
	}
	return 0;
}

/* Open the folder named name after INBOX (altpop_folders). A folder that
   does not exist (yet) has no messages: it is left out. */
static int altpop_mailbox_open_folder(struct altpop_client *client,
				      const char *name,
				      enum mailbox_flags flags,
				      const char **error_r)
{
	struct mail_namespace *ns;
	struct altpop_folder *folder;
	struct mailbox *box;
	enum mail_error error;

	ns = mail_namespace_find(client->user->namespaces, name);
	box = mailbox_alloc(ns->list, name, flags);
	if (mailbox_open(box) < 0) {
		const char *errstr = mailbox_get_last_internal_error(box,
								     &error);
		if (error == MAIL_ERROR_NOTFOUND) {
			e_debug(client->event, "altpop_folders: %s does not "
				"exist (yet): no messages from it", name);
			mailbox_free(&box);
			return 0;
		}
		*error_r = t_strdup_printf("altpop_folders: couldn't open "
					   "%s: %s", name, errstr);
		altpop_client_send_box_error(client, box);
		mailbox_free(&box);
		return -1;
	}
	folder = array_append_space(&client->folders);
	folder->box = box;
	return altpop_mailbox_deleted_kw_init(client, folder, error_r);
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
	p_array_init(&client->folders, client->pool, 2);
	array_append_zero(&client->folders);
	altpop_inbox(client)->box = client->mailbox;
	if (altpop_mailbox_deleted_kw_init(client, altpop_inbox(client),
					   error_r) < 0)
		return -1;
	/* SDPS views are views of INBOX */
	if (client->set->parsed_folders != NULL && !client->sdps) {
		const char *const *name = client->set->parsed_folders;

		/* the first is INBOX (settings check) */
		for (name++; *name != NULL; name++) {
			if (altpop_mailbox_open_folder(client, *name, flags,
						       error_r) < 0)
				return -1;
		}
	}
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
				 struct altpop_folder *folder,
				 const ARRAY_TYPE(seq_range) *seqs,
				 enum altpop_mailbox_change change)
{
	struct mail_search_args *args =
		altpop_search_seqs(seqs, SEARCH_SEQSET);
	struct mail_search_context *ctx;
	struct mail *mail;

	ctx = mailbox_search_init(folder->trans, args, NULL, 0, NULL);
	mail_search_args_unref(&args);
	while (mailbox_search_next(ctx, &mail)) {
		switch (change) {
		case ALTPOP_MAILBOX_DELETE:
			if (client->set->parsed_delete_type ==
			    POP3_DELETE_TYPE_FLAG) {
				/* the message stays, out of POP3's sight */
				mail_update_keywords(mail, MODIFY_ADD,
						     folder->deleted_kw);
				break;
			}
			mail_expunge(mail);
			seq_range_array_add(&folder->expunged_uids, mail->uid);
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

static int altpop_folder_expunge_check(struct altpop_folder *folder,
				       unsigned int *count, uoff_t *size)
{
	struct mailbox_transaction_context *t;
	struct mail_search_args *args;
	struct mail_search_context *ctx;
	struct mail *mail;
	uoff_t msg_size;
	int ret = 0;

	if (!array_is_created(&folder->expunged_uids) ||
	    array_count(&folder->expunged_uids) == 0)
		return 0;
	args = altpop_search_seqs(&folder->expunged_uids, SEARCH_UIDSET);
	t = mailbox_transaction_begin(folder->box, 0, __func__);
	ctx = mailbox_search_init(t, args, NULL, MAIL_FETCH_VIRTUAL_SIZE,
				  NULL);
	mail_search_args_unref(&args);
	while (mailbox_search_next(ctx, &mail)) {
		if (mail->expunged)
			continue;
		(*count)++;
		if (mail_get_virtual_size(mail, &msg_size) == 0)
			*size += msg_size;
	}
	if (mailbox_search_deinit(&ctx) < 0)
		ret = -1;
	(void)mailbox_transaction_commit(&t);
	return ret;
}

int altpop_mailbox_expunge_check(struct altpop_client *client,
				 unsigned int *count_r, uoff_t *size_r)
{
	struct altpop_folder *folder;
	int ret = 0;

	*count_r = 0;
	*size_r = 0;
	array_foreach_modifiable(&client->folders, folder) {
		if (altpop_folder_expunge_check(folder, count_r, size_r) < 0)
			ret = -1;
	}
	return ret;
}

/* Apply change to the messages whose bit is set in bitmask (every
   message when bitmask is NULL), folder by folder. */
static bool altpop_mailbox_apply_all(struct altpop_client *client,
				     const unsigned char *bitmask,
				     const unsigned char *skip_bitmask,
				     enum altpop_mailbox_change change)
{
	struct altpop_folder *folder;
	ARRAY_TYPE(seq_range) seqs;
	bool ok = TRUE;

	t_array_init(&seqs, 8);
	array_foreach_modifiable(&client->folders, folder) {
		if (mailbox_is_readonly(folder->box))
			continue;
		array_clear(&seqs);
		for (unsigned int i = folder->first_msgnum;
		     i < folder->first_msgnum + folder->count; i++) {
			if ((bitmask == NULL ||
			     ALTPOP_MSGNUM_BIT_IS_SET(bitmask, i)) &&
			    !ALTPOP_MSGNUM_BIT_IS_SET(skip_bitmask, i)) {
				seq_range_array_add(&seqs,
					altpop_msgnum_to_seq(client, i));
			}
		}
		if (change == ALTPOP_MAILBOX_DELETE &&
		    !array_is_created(&folder->expunged_uids))
			p_array_init(&folder->expunged_uids, client->pool, 8);
		if (array_count(&seqs) > 0 &&
		    !altpop_mailbox_apply(client, folder, &seqs, change))
			ok = FALSE;
	}
	return ok;
}

bool altpop_mailbox_update(struct altpop_client *client)
{
	bool ok = TRUE;

	if (client->quit_seen && client->deleted_bitmask != NULL &&
	    !altpop_mailbox_apply_all(client, client->deleted_bitmask, NULL,
				      ALTPOP_MAILBOX_DELETE))
		ok = FALSE;
	/* a deleted message needs no \Seen */
	if (client->seen_bitmask != NULL &&
	    !altpop_mailbox_apply_all(client, client->seen_bitmask,
				      client->quit_seen ?
				      client->deleted_bitmask : NULL,
				      ALTPOP_MAILBOX_SEE))
		ok = FALSE;
	client->seen_change_count = 0;
	return ok;
}

bool altpop_mailbox_unsee_all(struct altpop_client *client)
{
	bool ok;

	if (client->messages_count == 0)
		return TRUE;
	ok = altpop_mailbox_apply_all(client, NULL, NULL,
				      ALTPOP_MAILBOX_UNSEE);
	/* at once, as RFC 1460 has it: a session that ends without QUIT
	   keeps the change */
	if (!altpop_mailbox_commit_all(client, TRUE))
		ok = FALSE;
	return ok;
}
