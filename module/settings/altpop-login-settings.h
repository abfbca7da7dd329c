#ifndef ALTPOP_LOGIN_SETTINGS_H
#define ALTPOP_LOGIN_SETTINGS_H

/* Settings of the pre-auth process "altpop-login". */
struct altpop_login_settings {
	unsigned int altpop_login_max_bad_commands;
};

extern const struct setting_parser_info altpop_login_setting_parser_info;
extern const struct setting_parser_info *altpop_login_setting_roots[];

#endif
