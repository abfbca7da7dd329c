/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef CYRUSSASL_LIB_H
#define CYRUSSASL_LIB_H

/* The cyrussasl passdb's side that calls libsasl2 (cyrussasl-lib.c),
   kept apart from Dovecot's auth headers (see there). Events carry the
   log lines. */

/* the default SASL application name: <app>.conf is read as Cyrus pop3d's
   configuration is */
#define CYRUSSASL_DEFAULT_APP "pop"
/* longest user name or password handed to libsasl2 (its lengths are
   unsigned ints; Cyrus's own limit for a user is far below this) */
#define CYRUSSASL_MAX_INPUT_LEN 1024

struct cyrussasl_settings {
	/* SASL application name: libsasl2 reads <app>.conf, and it is the
	   service name saslauthd (and its PAM) sees */
	const char *app;
	/* directory of <app>.conf instead of libsasl2's default; NULL: the
	   default (/etc/sasl2 on Debian, or SASL_CONF_PATH) */
	const char *conf_path;
	/* realm of user names without "@realm"; NULL: Cyrus SASL's own
	   default (the server's host name) */
	const char *realm;
};

/* what libsasl2 answered */
enum cyrussasl_outcome {
	CYRUSSASL_OK,
	/* wrong password */
	CYRUSSASL_BADAUTH,
	CYRUSSASL_NOUSER,
	CYRUSSASL_DISABLED,
	CYRUSSASL_EXPIRED,
	/* the store could not answer (logged, naming the file to check) */
	CYRUSSASL_FAILED,
};

/* parses one "key=value" of the settings; FALSE with an error for an
   unknown key or a bad value */
bool cyrussasl_settings_parse(pool_t pool, struct cyrussasl_settings *set,
			      const char *key, const char *value,
			      const char **error_r);
/* checks what can be checked before the first request (the conf_path
   directory holds <app>.conf); FALSE with an error naming the setting */
bool cyrussasl_settings_check(const struct cyrussasl_settings *set,
			      const char **error_r);
/* <app>.conf as the log names it */
const char *cyrussasl_conf_file(const struct cyrussasl_settings *set);

/* sasl_checkpass() of user (as given, "@realm" included) */
enum cyrussasl_outcome
cyrussasl_checkpass(const struct cyrussasl_settings *set, struct event *event,
		    const char *user, const char *password);
/* the user's cleartext userPassword from the auxprop store: with
   CYRUSSASL_OK, *password_r is NULL where the store has none */
enum cyrussasl_outcome
cyrussasl_fetch_password(const struct cyrussasl_settings *set,
			 struct event *event, const char *user,
			 const char **password_r);

/* frees what the process-wide state holds of Dovecot's (its event) */
void cyrussasl_lib_deinit(void);

#endif
