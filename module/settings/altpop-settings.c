/* SPDX-License-Identifier: LGPL-2.1-only */
/* Settings of the post-login process. Compiled into the altpop binary and
   into the settings module that Dovecot's config process loads. */

#include "lib.h"
#include "settings-parser.h"
#include "mail-storage-settings.h"
#include "uidl-format.h"
#include "settings-compat.h"
#include "altpop-policy-settings.h"
#include "altpop-settings.h"

#undef DEF
#define DEF(type, name) \
	SETTING_DEFINE_STRUCT_##type(#name, name, struct altpop_settings)

static const struct setting_define altpop_setting_defines[] = {
	DEF(BOOL, verbose_proctitle),
	DEF(ALTPOP_VARS, rawlog_dir),

	DEF(ALTPOP_BOOL, altpop_lock_session),
	DEF(ALTPOP_BOOL, altpop_no_flag_updates),
	DEF(ALTPOP_FORMAT, altpop_logout_format),
	DEF(ALTPOP_FORMAT, altpop_uidl_format),
	DEF(ALTPOP_BOOL, altpop_save_uidl),
	DEF(TIME, altpop_idle_timeout),
	DEF(UINT, altpop_max_bad_commands),
	DEF(STR, altpop_sdps_sender_headers),
	DEF(STR, altpop_sdps_recipient_headers),
	DEF(TIME, altpop_lock_session_wait),
	ALTPOP_POLICY_SETTING_DEFINES(struct altpop_settings),
	DEF(STR, altpop_deleted_flag),
	DEF(STR, altpop_delete_type),
	DEF(ALTPOP_BOOL, altpop_enable_last),
	DEF(ALTPOP_BOOL, altpop_reuse_xuidl),
	DEF(STR, altpop_uidl_duplicates),
	DEF(ALTPOP_BOOL, altpop_fast_size_lookups),
	DEF(STR, altpop_client_workarounds),
	DEF(STR, altpop_folders),

	SETTING_DEFINE_LIST_END
};

static const struct altpop_settings altpop_default_settings = {
	.verbose_proctitle = FALSE,
	.rawlog_dir = "",

	ALTPOP_BOOL_DEFAULT(altpop_lock_session, TRUE),
	ALTPOP_BOOL_DEFAULT(altpop_no_flag_updates, FALSE),
	.altpop_logout_format = ALTPOP_LOGOUT_FORMAT_DEFAULT,
	.altpop_uidl_format = "dovecot",
	ALTPOP_BOOL_DEFAULT(altpop_save_uidl, FALSE),
	.altpop_idle_timeout = 10*60,
	.altpop_max_bad_commands = 20,
	.altpop_sdps_sender_headers = "Return-Path",
	.altpop_sdps_recipient_headers = "Delivered-To X-Original-To",
	.altpop_lock_session_wait = 0,
	ALTPOP_POLICY_SETTING_DEFAULTS,
	.altpop_deleted_flag = "",
	.altpop_delete_type = "default",
	ALTPOP_BOOL_DEFAULT(altpop_enable_last, FALSE),
	ALTPOP_BOOL_DEFAULT(altpop_reuse_xuidl, FALSE),
	.altpop_uidl_duplicates = "unique",
	ALTPOP_BOOL_DEFAULT(altpop_fast_size_lookups, FALSE),
	.altpop_client_workarounds = "",
	.altpop_folders = "",
};

static bool
altpop_settings_check(void *_set, pool_t pool, const char **error_r)
{
	struct altpop_settings *set = _set;
	const char *format, *error;

	if (!ALTPOP_BOOL_CHECK(set, altpop_lock_session, error_r) ||
	    !ALTPOP_BOOL_CHECK(set, altpop_no_flag_updates, error_r) ||
	    !ALTPOP_BOOL_CHECK(set, altpop_save_uidl, error_r) ||
	    !ALTPOP_BOOL_CHECK(set, altpop_enable_last, error_r) ||
	    !ALTPOP_BOOL_CHECK(set, altpop_reuse_xuidl, error_r) ||
	    !ALTPOP_BOOL_CHECK(set, altpop_fast_size_lookups, error_r) ||
	    !ALTPOP_POLICY_SETTINGS_CHECK(set, error_r))
		return FALSE;

	if (uidl_format_resolve(set->altpop_uidl_format, &format, &error) < 0) {
		*error_r = t_strdup_printf("altpop_uidl_format: %s", error);
		return FALSE;
	}
	set->parsed_uidl_format = p_strdup(pool, format);
	if (pop3_delete_type_parse(set->altpop_delete_type,
				   set->altpop_deleted_flag,
				   &set->parsed_delete_type, error_r) < 0 ||
	    pop3_uidl_duplicates_parse(set->altpop_uidl_duplicates,
				       &set->parsed_uidl_duplicates,
				       error_r) < 0 ||
	    pop3_client_workarounds_parse(set->altpop_client_workarounds,
					  &set->parsed_workarounds,
					  error_r) < 0 ||
	    pop3_folders_parse(set->altpop_folders, pool,
			       &set->parsed_folders, error_r) < 0)
		return FALSE;
	if (set->altpop_idle_timeout < ALTPOP_IDLE_TIMEOUT_MIN_SECS) {
		*error_r = t_strdup_printf(
			"altpop_idle_timeout: must be at least %u seconds "
			"(RFC 1939 asks for 10 minutes)",
			ALTPOP_IDLE_TIMEOUT_MIN_SECS);
		return FALSE;
	}
	if (set->altpop_idle_timeout > ALTPOP_IDLE_TIMEOUT_MAX_SECS) {
		*error_r = t_strdup_printf(
			"altpop_idle_timeout: %u seconds is more than the "
			"maximum of %u (1 day)", set->altpop_idle_timeout,
			ALTPOP_IDLE_TIMEOUT_MAX_SECS);
		return FALSE;
	}
	if (set->altpop_sdps_recipient_headers[0] == '\0') {
		*error_r = "altpop_sdps_recipient_headers: must name at least "
			"one header (e.g. Delivered-To)";
		return FALSE;
	}
	if (set->altpop_max_bad_commands == 0) {
		*error_r = "altpop_max_bad_commands: must be at least 1";
		return FALSE;
	}
	if (set->altpop_lock_session_wait > ALTPOP_LOCK_SESSION_WAIT_MAX_SECS) {
		*error_r = t_strdup_printf(
			"altpop_lock_session_wait: %u seconds is more than the "
			"maximum of %u (a client waiting that long has given "
			"up; use 0 to answer [IN-USE] at once)",
			set->altpop_lock_session_wait,
			ALTPOP_LOCK_SESSION_WAIT_MAX_SECS);
		return FALSE;
	}
	return TRUE;
}

const struct setting_parser_info altpop_setting_parser_info = {
	ALTPOP_SETTING_INFO_HEAD("altpop", struct altpop_settings,
				 &mail_user_setting_parser_info),
	.defines = altpop_setting_defines,
	.defaults = &altpop_default_settings,
	.check_func = altpop_settings_check,
};
