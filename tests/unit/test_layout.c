/*
 * Keeps third-party types in their rooms: only src/sip/ includes sofia-sip,
 * only sql-free-store/ includes LevelDB, only src/crypto/ includes GnuTLS,
 * only src/cucm/ (AXL) and src/services/push.c (pushes to phones) include
 * libcurl, only the codec module includes the codec libraries, only
 * src/access/password.c libargon2, only src/api/ jansson.
 * A violation names the file.
 */
#include "tap.h"

static void check(const char *pattern, const char *allowed, const char *what)
{
    char cmd[1024], line[512];
    const char *top = getenv("top_srcdir");
    int bad = 0;
    FILE *p;

    snprintf(cmd, sizeof cmd,
             "cd '%s' && grep -rlE '#include[[:space:]]*<%s' src sql-free-store | grep -vE '^%s' ",
             top && *top ? top : ".", pattern, allowed);
    p = popen(cmd, "r");
    if (!ok(p != NULL, "run grep"))
        return;
    while (fgets(line, sizeof line, p)) {
        printf("# %s included in %s", what, line);
        bad++;
    }
    pclose(p);
    is_int(bad, 0, "%s headers only under %s", what, allowed);
}

int main(void)
{
    check("sofia-sip/", "src/sip/", "sofia-sip");
    check("leveldb/", "sql-free-store/", "LevelDB");
    check("gnutls/", "src/crypto/", "GnuTLS");
    check("curl/", "(src/cucm/|src/services/push.c)", "libcurl");
    check("microhttpd.h", "src/http/", "libmicrohttpd");
    check("spandsp.h", "src/media/codec", "spandsp");
    check("bcg729/", "src/media/codec", "bcg729");
    check("argon2.h", "src/access/password", "libargon2");
    check("jansson.h", "src/api/", "jansson");
    return tap_done();
}
