/*
 * unit.c: the main loop of every Check unit test.  Nothing here can fail
 * but the tests themselves, which the exit status reports.
 */
#include "unit.h"

int
unit_run(Suite *s)
{
	SRunner	*sr;
	int	 nf;

	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
