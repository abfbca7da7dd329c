/* SPDX-License-Identifier: LGPL-2.1-only */
/* Unit tests of module/lib/pop3-capa.c */

#include "lib.h"
#include "str.h"
#include "test-common.h"
#include "altpop-compat.h"
#include "pop3-capa.h"
#include "expire-policy.h"

static bool capa_has_line(const char *reply, const char *line)
{
	const char *const *lines = t_strsplit(reply, "\r\n");

	for (; *lines != NULL; lines++) {
		if (strcmp(*lines, line) == 0)
			return TRUE;
	}
	return FALSE;
}

static void test_pop3_capa_pre_login(void)
{
	static const char *const mechs[] = { "PLAIN", "SCRAM-SHA-256", NULL };
	string_t *str = t_str_new(256);

	test_begin("pop3 capa before login");
	pop3_capa_append_reply(str, POP3_CAPA_FLAG_STLS | POP3_CAPA_FLAG_USER,
			       mechs, NULL);
	test_assert(altpop_str_begins(str_c(str), "+OK"));
	test_assert(str_len(str) > 5 &&
		    strcmp(str_c(str) + str_len(str) - 5, "\r\n.\r\n") == 0);
	test_assert(capa_has_line(str_c(str), "STLS"));
	test_assert(capa_has_line(str_c(str), "USER"));
	test_assert(capa_has_line(str_c(str), "SASL PLAIN SCRAM-SHA-256"));
	test_assert(capa_has_line(str_c(str), "RESP-CODES"));
	test_assert(capa_has_line(str_c(str), "AUTH-RESP-CODE"));
	test_assert(capa_has_line(str_c(str), "PIPELINING"));
	test_assert(capa_has_line(str_c(str), "TOP"));
	test_assert(capa_has_line(str_c(str), "UIDL"));
	test_end();
}

static void test_pop3_capa_no_plaintext(void)
{
	static const char *const no_mechs[] = { NULL };
	string_t *str = t_str_new(256);

	test_begin("pop3 capa without plaintext, TLS active");
	pop3_capa_append_reply(str, 0, no_mechs, NULL);
	test_assert(!capa_has_line(str_c(str), "STLS"));
	test_assert(!capa_has_line(str_c(str), "USER"));
	/* no empty SASL line */
	test_assert(strstr(str_c(str), "SASL") == NULL);
	test_end();
}

static void test_pop3_capa_post_login(void)
{
	string_t *str = t_str_new(256);

	test_begin("pop3 capa after login");
	pop3_capa_append_reply(str, POP3_CAPA_FLAG_SDPS, NULL, NULL);
	test_assert(strstr(str_c(str), "SASL") == NULL);
	test_assert(capa_has_line(str_c(str), "X-SDPS"));
	/* every line is CRLF-terminated: no bare LF anywhere */
	for (size_t i = 0; i < str_len(str); i++) {
		if (str_c(str)[i] == '\n')
			test_assert_idx(i > 0 && str_c(str)[i-1] == '\r', i);
	}
	test_end();
}

static void test_pop3_capa_policy(void)
{
	const struct pop3_capa_policy global = {
		.login_delay_secs = 300, .expire = "NEVER", .per_user = TRUE,
	};
	const struct pop3_capa_policy user = {
		.login_delay_secs = 60, .expire = "0",
	};
	const struct pop3_capa_policy off = { .login_delay_secs = 0 };
	string_t *str = t_str_new(256);

	test_begin("pop3 capa LOGIN-DELAY and EXPIRE");
	pop3_capa_append_reply(str, 0, NULL, &global);
	test_assert(capa_has_line(str_c(str), "LOGIN-DELAY 300 USER"));
	test_assert(capa_has_line(str_c(str), "EXPIRE NEVER USER"));
	str_truncate(str, 0);
	pop3_capa_append_reply(str, 0, NULL, &user);
	test_assert(capa_has_line(str_c(str), "LOGIN-DELAY 60"));
	test_assert(capa_has_line(str_c(str), "EXPIRE 0"));
	str_truncate(str, 0);
	pop3_capa_append_reply(str, 0, NULL, &off);
	test_assert(strstr(str_c(str), "LOGIN-DELAY") == NULL);
	test_assert(strstr(str_c(str), "EXPIRE") == NULL);
	test_end();
}

static void test_expire_policy(void)
{
	const char *error;
	int days;

	test_begin("expire policy values");
	test_assert(expire_policy_parse("", &days, &error) == 0 &&
		    days == EXPIRE_POLICY_OFF);
	test_assert(expire_policy_capa(days) == NULL);
	test_assert(expire_policy_parse("Never", &days, &error) == 0 &&
		    days == EXPIRE_POLICY_NEVER);
	test_assert(strcmp(expire_policy_capa(days), "NEVER") == 0);
	test_assert(expire_policy_parse("0", &days, &error) == 0 && days == 0);
	test_assert(strcmp(expire_policy_capa(days), "0") == 0);
	test_assert(expire_policy_parse("30", &days, &error) == 0 && days == 30);
	test_assert(expire_policy_parse("-1", &days, &error) < 0);
	test_assert(expire_policy_parse("30 days", &days, &error) < 0);
	test_assert(expire_policy_parse("36501", &days, &error) < 0);
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_pop3_capa_pre_login,
		test_pop3_capa_no_plaintext,
		test_pop3_capa_post_login,
		test_pop3_capa_policy,
		test_expire_policy,
		NULL
	};
	return test_run(test_functions);
}
