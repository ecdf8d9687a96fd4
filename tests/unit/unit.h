/*
 * unit.h: what every Check unit test shares (tests/unit/unit.c).
 */
#ifndef LM_UNIT_H
#define LM_UNIT_H

#include <check.h>

/*
 * Run the suite the way the harness expects (CK_ENV: with
 * CK_TAP_LOG_FILE_NAME=- its TAP goes to stdout), free it; the exit
 * status for main: 0 iff no test failed.
 */
int	 unit_run(Suite *);

#endif
