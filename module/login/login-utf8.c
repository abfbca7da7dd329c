/* SPDX-License-Identifier: LGPL-2.1-only */
/* RFC 6856 UTF8 in altpop-login (altpop_utf8): the UTF8 command, and
   after it UTF-8 user names and passwords for USER/PASS and in the data of
   AUTH PLAIN and AUTH LOGIN (initial response and continuations), checked
   and normalised with SASLprep (RFC 4013, libidn's stringprep) as RFC 6856
   section 2 asks. Messages are sent unchanged in any case. */

#include "login-common.h"
#include "array.h"
#include "base64.h"
#include "buffer.h"
#include "ioloop.h"
#include "safe-memset.h"
#include "str.h"
#include "unichar.h"
#include "altpop-login.h"
#include "login-glue.h"

#include <stringprep.h>

int altpop_cmd_utf8(struct altpop_login_client *aclient, const char *args)
{
	if (!aclient->set->altpop_utf8) {
		/* off: as if there were no such command */
		return altpop_login_bad_command(aclient, altpop_login_text(
			aclient, POP3_MSG_UNKNOWN_COMMAND)) ? 1 : 0;
	}
	if (args[0] != '\0') {
		return altpop_login_bad_command(aclient, altpop_login_text(
			aclient, POP3_MSG_UTF8_NO_ARGS)) ? 1 : 0;
	}
	aclient->utf8 = TRUE;
	/* SASL responses of PLAIN and LOGIN are UTF-8 from now on */
	altpop_login_glue_set_utf8_auth_input(&aclient->common.v);
	altpop_login_reply(&aclient->common, ALTPOP_REPLY_OK,
			   altpop_login_text(aclient, POP3_MSG_UTF8_ENABLED));
	return 1;
}

/* The one check and normalisation of a UTF-8 user name or password
   (USER, PASS, and the AUTH PLAIN / LOGIN data): 0 and the SASLprep'd
   string (data stack), -1 if str is not valid UTF-8 (overlong forms,
   surrogates, cut sequences, Latin-1 ...), -2 if SASLprep refuses it
   (error_r says why). */
static int altpop_utf8_saslprep(const char *str, const char **result_r,
				const char **error_r)
{
	char *prepped;
	int ret;

	if (!uni_utf8_str_is_valid(str))
		return -1;
	/* stored strings may not hold unassigned code points, queries may */
	ret = stringprep_profile(str, &prepped, "SASLprep", 0);
	if (ret != STRINGPREP_OK) {
		*error_r = stringprep_strerror(ret);
		return -2;
	}
	*result_r = t_strdup(prepped);
	safe_memset(prepped, 0, strlen(prepped));
	free(prepped);
	return 0;
}

const char *altpop_utf8_prep(struct altpop_login_client *aclient,
			     const char *arg, bool password)
{
	struct client *client = &aclient->common;
	const char *what = password ? "password" : "user name";
	const char *result, *error;

	if (!aclient->utf8)
		return arg;
	switch (altpop_utf8_saslprep(arg, &result, &error)) {
	case 0:
		return result;
	case -1:
		e_debug(client->event, "UTF8: invalid UTF-8 in the %s", what);
		(void)altpop_login_bad_command(aclient, altpop_login_text(
			aclient, password ? POP3_MSG_UTF8_INVALID_PASSWORD :
			POP3_MSG_UTF8_INVALID_USER));
		return NULL;
	default:
		e_debug(client->event, "UTF8: SASLprep of the %s failed: %s",
			what, error);
		(void)altpop_login_bad_command(aclient, altpop_login_text(
			aclient, password ? POP3_MSG_SASLPREP_PASSWORD :
			POP3_MSG_SASLPREP_USER));
		return NULL;
	}
}

/* SASLprep each of count NUL-separated fields of data (PLAIN: authzid,
   authcid, password; LOGIN: one) into dest. Data of another shape is
   copied as it is: the mechanism refuses it. */
static int altpop_utf8_prep_fields(const buffer_t *data, unsigned int count,
				   buffer_t *dest, const char **error_r)
{
	ARRAY_TYPE(const_string) parts;
	const char *const *fields, *prepped;
	const char *p = data->data, *end = p + data->used;
	unsigned int i;
	int ret;

	/* t_strsplit() can't split on NUL */
	t_array_init(&parts, count + 1);
	for (;;) {
		const char *nul = memchr(p, '\0', end - p);
		const char *part = t_strndup(p, (nul == NULL ? end : nul) - p);

		array_push_back(&parts, &part);
		if (nul == NULL)
			break;
		p = nul + 1;
	}
	array_append_zero(&parts);
	fields = array_front(&parts);
	if (str_array_length(fields) != count) {
		buffer_append_buf(dest, data, 0, SIZE_MAX);
		return 0;
	}
	for (i = 0; i < count; i++) {
		if (i > 0)
			buffer_append_c(dest, '\0');
		if ((ret = altpop_utf8_saslprep(fields[i], &prepped,
						error_r)) < 0)
			return ret;
		buffer_append(dest, prepped, strlen(prepped));
	}
	return 0;
}

const char *altpop_utf8_auth_prep(struct altpop_login_client *aclient,
				  const char *response, bool *failed_r)
{
	struct client *client = &aclient->common;
	const char *mech = client->auth_mech_name, *error = "";
	unsigned int fields;
	buffer_t *data, *prepped;
	string_t *result;
	int ret;

	*failed_r = FALSE;
	if (!aclient->utf8 || mech == NULL || response[0] == '\0' ||
	    strcmp(response, "*") == 0)
		return response;
	if (strcasecmp(mech, "PLAIN") == 0)
		fields = 3;
	else if (strcasecmp(mech, "LOGIN") == 0)
		fields = 1;
	else {
		/* the other mechanisms' data is not a plain name and
		   password (README) */
		return response;
	}
	data = t_buffer_create(strlen(response));
	if (altpop_base64_decode(response, strlen(response), data) < 0) {
		/* the mechanism says it's not base64 */
		return response;
	}
	prepped = t_buffer_create(data->used + 16);
	ret = altpop_utf8_prep_fields(data, fields, prepped, &error);
	safe_memset(buffer_get_modifiable_data(data, NULL), 0, data->used);
	if (ret < 0) {
		safe_memset(buffer_get_modifiable_data(prepped, NULL), 0,
			    prepped->used);
		if (ret == -1) {
			e_info(client->event, "UTF8: invalid UTF-8 in the "
			       "AUTH %s data: refused", mech);
		} else {
			e_info(client->event, "UTF8: SASLprep (RFC 4013) "
			       "refused the AUTH %s data: %s", mech, error);
		}
		*failed_r = TRUE;
		return altpop_login_text(aclient, ret == -1 ?
			POP3_MSG_UTF8_INVALID_AUTH : POP3_MSG_SASLPREP_AUTH);
	}
	result = t_str_new(MAX_BASE64_ENCODED_SIZE(prepped->used) + 1);
	base64_encode(prepped->data, prepped->used, result);
	safe_memset(buffer_get_modifiable_data(prepped, NULL), 0,
		    prepped->used);
	return str_c(result);
}

void altpop_utf8_auth_input(struct client *client)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);
	const char *response;
	bool failed;

	if (client_auth_read_line(client) <= 0)
		return;
	if (strcmp(str_c(client->auth_response), "*") == 0) {
		altpop_login_glue_auth_abort(client);
		return;
	}
	T_BEGIN {
		response = altpop_utf8_auth_prep(aclient,
			str_c(client->auth_response), &failed);
		if (failed) {
			if (!client_does_custom_io(client))
				io_remove(&client->io);
			client_auth_fail(client, response);
		} else {
			client_auth_respond(client, response);
		}
	} T_END;
	safe_memset(str_c_modifiable(client->auth_response), 0,
		    str_len(client->auth_response));
}
