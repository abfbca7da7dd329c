/* The logout log line (altpop_logout_format, like pop3_logout_format). */

#include "lib.h"
#include "istream.h"
#include "ostream.h"
#include "str.h"
#include "var-expand.h"
#include "mail-user.h"
#include "altpop-client.h"

const char *altpop_logout_stats(struct altpop_client *client)
{
	bool deleted = client->update_success;
	const struct var_expand_table logout_tab[] = {
		{ 'p', dec2str(client->top_bytes), "top_bytes" },
		{ 't', dec2str(client->top_count), "top_count" },
		{ 'b', dec2str(client->retr_bytes), "retr_bytes" },
		{ 'r', dec2str(client->retr_count), "retr_count" },
		{ 'd', deleted ? dec2str(client->deleted_count) : "0",
		  "deleted_count" },
		{ 'm', dec2str(client->messages_count), "message_count" },
		{ 's', dec2str(client->total_size), "message_bytes" },
		{ 'i', dec2str(client->input->v_offset), "input" },
		{ 'o', dec2str(client->output->offset), "output" },
		{ '\0', deleted ? dec2str(client->deleted_size) : "0",
		  "deleted_bytes" },
		{ '\0', NULL, NULL }
	};
	const struct var_expand_table *tab =
		t_var_expand_merge_tables(logout_tab,
			mail_user_var_expand_table(client->user));
	string_t *str = t_str_new(128);
	const char *error;

	if (var_expand_with_funcs(str, client->set->altpop_logout_format, tab,
				  mail_user_var_expand_func_table,
				  client->user, &error) < 0) {
		e_error(client->event, "Failed to expand altpop_logout_format=%s: %s",
			client->set->altpop_logout_format, error);
	}
	return str_c(str);
}
