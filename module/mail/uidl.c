/* UIDL mapping: a permanent UIDL the storage already holds (migrated or
   saved) wins; otherwise the configured format (altpop_uidl_format). Every
   UIDL shown is valid and unique within the maildrop. */

#include "lib.h"
#include "array.h"
#include "hash.h"
#include "str.h"
#include "mail-storage.h"
#include "mail-search-build.h"
#include "altpop-limits.h"
#include "uidl-format.h"
#include "altpop-client.h"

HASH_TABLE_DEFINE_TYPE(altpop_uidl_set, char *, char *);

static int altpop_uidl_special(struct altpop_client *client, struct mail *mail,
			       enum mail_fetch_field field, const char *what,
			       const char **value_r)
{
	if (mail_get_special(mail, field, value_r) < 0) {
		e_error(client->event, "UIDL: %s lookup failed: %s", what,
			mailbox_get_last_internal_error(mail->box, NULL));
		return -1;
	}
	if ((*value_r)[0] == '\0') {
		e_error(client->event, "UIDL: %s not available: the mail "
			"storage does not support it in altpop_uidl_format",
			what);
		return -1;
	}
	return 0;
}

static int altpop_uidl_build(struct altpop_client *client, struct mail *mail,
			     enum uidl_var_mask vars_needed, string_t *str,
			     bool *permanent_r)
{
	struct uidl_vars vars;
	const char *backend, *error;

	*permanent_r = FALSE;
	if (mail_get_special(mail, MAIL_FETCH_UIDL_BACKEND, &backend) == 0 &&
	    backend[0] != '\0') {
		if (uidl_is_valid(backend, strlen(backend))) {
			str_append(str, backend);
			*permanent_r = TRUE;
			return 0;
		}
		e_warning(client->event, "UIDL: stored UIDL of UID %u is not a "
			  "valid POP3 UIDL, using altpop_uidl_format instead",
			  mail->uid);
	}

	i_zero(&vars);
	vars.uid = mail->uid;
	vars.uidvalidity = client->uid_validity;
	if ((vars_needed & UIDL_VAR_MD5) != 0 &&
	    altpop_uidl_special(client, mail, MAIL_FETCH_HEADER_MD5,
				"Header MD5", &vars.md5) < 0)
		return -1;
	if ((vars_needed & UIDL_VAR_FILENAME) != 0 &&
	    altpop_uidl_special(client, mail, MAIL_FETCH_STORAGE_ID,
				"File name", &vars.filename) < 0)
		return -1;
	if ((vars_needed & UIDL_VAR_GUID) != 0 &&
	    altpop_uidl_special(client, mail, MAIL_FETCH_GUID,
				"Message GUID", &vars.guid) < 0)
		return -1;
	if (uidl_format_expand(str, client->set->parsed_uidl_format, &vars,
			       &error) < 0) {
		e_error(client->event, "UIDL: altpop_uidl_format=%s gives no "
			"valid UIDL for UID %u: %s",
			client->set->altpop_uidl_format, mail->uid, error);
		return -1;
	}
	return 0;
}

/* Append "-N" until str is unique; deterministic for the same input
   order. */
static void altpop_uidl_make_unique(string_t *str,
				    HASH_TABLE_TYPE(altpop_uidl_set) seen)
{
	size_t base_len = str_len(str);
	unsigned int n = 1;

	while (hash_table_lookup(seen, str_c(str)) != NULL) {
		str_truncate(str, base_len);
		str_printfa(str, "-%u", ++n);
		if (str_len(str) > ALTPOP_UIDL_MAX_LEN) {
			/* keep within 70 chars: shorten the base */
			size_t cut = str_len(str) - ALTPOP_UIDL_MAX_LEN;
			string_t *tmp = t_str_new(ALTPOP_UIDL_MAX_LEN + 1);
			str_append_data(tmp, str_data(str), base_len - cut);
			str_printfa(tmp, "-%u", n);
			str_truncate(str, 0);
			str_append_str(str, tmp);
			base_len -= cut;
		}
	}
}

int altpop_uidls_get(struct altpop_client *client, const char *const **uidls_r)
{
	HASH_TABLE_TYPE(altpop_uidl_set) seen;
	struct mail_search_args *search_args;
	struct mail_search_context *ctx;
	enum uidl_var_mask vars_needed;
	enum mail_fetch_field wanted = 0;
	struct mail *mail;
	const char **seq_uidls;
	string_t *str;
	bool permanent;
	int ret = 0;

	if (client->uidls != NULL || client->messages_count == 0) {
		*uidls_r = client->uidls;
		return 0;
	}

	vars_needed = uidl_format_get_vars(client->set->parsed_uidl_format);
	if ((vars_needed & UIDL_VAR_MD5) != 0)
		wanted |= MAIL_FETCH_HEADER_MD5;
	search_args = mail_search_build_init();
	mail_search_build_add_seqset(search_args, 1, client->highest_seq);
	ctx = mailbox_search_init(client->trans, search_args, NULL, wanted, NULL);
	mail_search_args_unref(&search_args);

	client->uidl_pool = pool_alloconly_create("altpop uidls",
		I_MAX(1024, client->messages_count * 24));
	seq_uidls = p_new(client->uidl_pool, const char *, client->highest_seq);
	hash_table_create(&seen, default_pool, client->messages_count,
			  str_hash, strcmp);
	str = t_str_new(128);
	while (mailbox_search_next(ctx, &mail)) {
		str_truncate(str, 0);
		if (altpop_uidl_build(client, mail, vars_needed, str,
				      &permanent) < 0) {
			ret = -1;
			break;
		}
		altpop_uidl_make_unique(str, seen);
		char *uidl = p_strdup(client->uidl_pool, str_c(str));
		hash_table_insert(seen, uidl, uidl);
		if (client->set->altpop_save_uidl && !permanent)
			mail_update_pop3_uidl(mail, uidl);
		seq_uidls[mail->seq - 1] = uidl;
	}
	if (mailbox_search_deinit(&ctx) < 0)
		ret = -1;
	hash_table_destroy(&seen);
	if (ret < 0) {
		pool_unref(&client->uidl_pool);
		return -1;
	}

	client->uidls = p_new(client->uidl_pool, const char *,
			      client->messages_count + 1);
	for (unsigned int i = 0; i < client->messages_count; i++) {
		client->uidls[i] = seq_uidls[client->messages[i].seq - 1];
		if (client->uidls[i] == NULL) {
			e_error(client->event, "UIDL: message %u vanished "
				"while listing UIDLs", i + 1);
			client->uidls = NULL;
			pool_unref(&client->uidl_pool);
			return -1;
		}
	}
	*uidls_r = client->uidls;
	return 0;
}
