/*
 * env.c: the environment a child gets, and nothing else.
 *
 * Only the variables named in import_environment pass from the master's
 * environment; the master adds the MASTER_* and LISTEN_* variables of the
 * contract (linkmaster-contract(7)).  Built in the child right after fork,
 * because LISTEN_PID must be the child's own pid.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "master.h"

static void
env_add(char ***envp, int *n, const char *name, const char *value)
{
	char	*s;

	xasprintf(&s, "%s=%s", name, value);
	*envp = xreallocarray(*envp, *n + 2, sizeof(**envp));
	(*envp)[(*n)++] = s;
	(*envp)[*n] = NULL;
}

static void
env_addn(char ***envp, int *n, const char *name, long long value)
{
	char	 buf[32];

	snprintf(buf, sizeof(buf), "%lld", value);
	env_add(envp, n, name, buf);
}

char **
env_build(const struct config *cfg, const struct unit *u, int status_fd,
    int generation, pid_t pid, int handoff)
{
	const struct tentry	*te = u->svc->te;
	char			**envp = NULL;
	const char		*v;
	char			*names = NULL, *p;
	int			 n = 0, i;

	envp = xcalloc(1, sizeof(*envp));
	for (i = 0; i < cfg->nimport; i++)
		if ((v = getenv(cfg->import_environment[i])) != NULL)
			env_add(&envp, &n, cfg->import_environment[i], v);
	env_add(&envp, &n, "MASTER_SERVICE", u->name);
	env_add(&envp, &n, "MASTER_TYPE", svc_type_name(te->type));
	env_addn(&envp, &n, "MASTER_GENERATION", generation);
	env_addn(&envp, &n, "MASTER_STATUS_FD", status_fd);
	env_add(&envp, &n, "MASTER_SYSLOG_NAME", u->ident);
	env_add(&envp, &n, "MASTER_SYSLOG_FACILITY", cfg->syslog_facility);
	env_add(&envp, &n, "MASTER_SYSLOG_SOCKET", cfg->syslog_socket);
	if (cfg->log_file != NULL)
		env_add(&envp, &n, "MASTER_LOG_FILE", cfg->log_file);
	env_add(&envp, &n, "MASTER_CONFIG_DIR", cfg->confdir);
	env_add(&envp, &n, "MASTER_STATE_DIR", cfg->state_dir);
	env_addn(&envp, &n, "MASTER_MAX_USE", cfg->max_use);
	/* Seconds, rounded up: 500ms must not become 0, "never". */
	env_addn(&envp, &n, "MASTER_MAX_IDLE", (cfg->max_idle + 999) / 1000);
	/* Every child: linkd answers a hello with it, too. */
	env_add(&envp, &n, "MASTER_HOST_NAME", cfg->host_name);
	if (u->peer.name != NULL) {
		env_add(&envp, &n, "PEER_NAME", u->peer.name);
		env_add(&envp, &n, "PEER_ADDRESS", u->peer.address);
		env_add(&envp, &n, "PEER_PORT", u->peer.port);
	}
	if (u->nlisten + handoff > 0) {
		env_addn(&envp, &n, "LISTEN_FDS", u->nlisten + handoff);
		env_addn(&envp, &n, "LISTEN_PID", pid);
		/*
		 * One name per fd, colon-separated, as systemd does; a colon
		 * inside a name (an inet address) would split it, so it
		 * becomes '_'.
		 */
		names = xcalloc(u->nlisten, strlen(u->name) + 1);
		for (i = 0, p = names; i < u->nlisten; i++) {
			if (i > 0)
				*p++ = ':';
			for (v = u->name; *v != '\0'; v++)
				*p++ = *v == ':' ? '_' : *v;
		}
		*p = '\0';
		/* A link handed over by the previous generation. */
		if (handoff) {
			names = xreallocarray(names, strlen(names) + 10, 1);
			strlcat(names, u->nlisten ? ":handoff" : "handoff",
			    strlen(names) + 10);
		}
		env_add(&envp, &n, "LISTEN_FDNAMES", names);
		free(names);
	}
	return envp;
}

void
env_free(char **envp)
{
	char	**p;

	for (p = envp; *p != NULL; p++)
		free(*p);
	free(envp);
}
