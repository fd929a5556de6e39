/*
 * Recording policy: profile matching, configuration errors, and the policy
 * document against golden files (Markdown and HTML).
 */
#include <errno.h>

#include "config/settings.h"
#include "policy/policy.h"
#include "tap.h"

static int load(const char *xml, br_config_t *c, char *err, size_t errsz)
{
    br_config_defaults(c);
    return br_config_load_mem(c, "test.xml", xml, strlen(xml), err, errsz);
}

static char *slurp(const char *rel)
{
    char path[1024];
    FILE *f = fopen(tap_srcpath(rel, path, sizeof path), "rb");
    long n;
    char *s;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    s = calloc(1, (size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    fclose(f);
    return s;
}

static void golden(const br_config_t *c, enum br_policy_format fmt, const char *rel)
{
    br_buf_t out;
    char *want = slurp(rel);

    br_buf_init(&out);
    br_policy_render(c, fmt, &out);
    if (!ok(want && out.data && strcmp((char *)out.data, want) == 0, "rendering matches %s", rel)) {
        printf("# --- got:\n");
        for (char *p = (char *)out.data; p && *p; p++)
            if (*p != '\n' || printf("\n# ") < 0)
                putchar(*p);
        printf("\n");
    }
    br_buf_free(&out);
    free(want);
}

int main(void)
{
    static br_config_t c;
    char err[512], *xml = slurp("tests/fixtures/policy.xml");
    const br_profile_t *p;

    ok(br_policy_dn_matches("4xxx", "4001") && !br_policy_dn_matches("4xxx", "40011") &&
           !br_policy_dn_matches("4xxx", "5001"),
       "x matches one digit");
    ok(br_policy_dn_matches("5000-5099", "5042") && !br_policy_dn_matches("5000-5099", "5100") &&
           !br_policy_dn_matches("5000-5099", "504"),
       "ranges of equal length");
    ok(br_policy_dn_matches("*", "123") && br_policy_dn_matches("6001", "6001") &&
           !br_policy_dn_matches("6001", ""),
       "star and exact numbers; an empty DN matches only the star");
    ok(br_policy_device_matches("SEP00AABB*", "sep00aabbccdd01") &&
           !br_policy_device_matches("SEP00AABB*", "SEP00AABC0001") &&
           br_policy_device_matches("*Trk", "EU91GW002-Trk") && br_policy_device_matches("SEP??AA*", "SEP12AA"),
       "device globs, case-insensitive");

    is_int(load(xml ? xml : "", &c, err, sizeof err), 0, "the example policy loads: %s", err);
    is_int(c.nprofiles, 4, "four profiles");
    p = br_policy_match(&c, "4001", "SEP000000000001");
    ok(p && strcmp(p->name, "claims-hotline") == 0 && p->basis == BR_BASIS_LEGAL_OBLIGATION,
       "4001 falls under claims-hotline (legal obligation)");
    p = br_policy_match(&c, "7777", "SEP00AABBCCDD01");
    ok(p && strcmp(p->name, "sales-on-demand") == 0 && p->mode == BR_MODE_ON_DEMAND &&
           p->keep_confirm_minutes == 30,
       "a matching device falls under sales-on-demand");
    ok(br_policy_match(&c, "7777", "SEP111111111111") == NULL, "a line no profile covers");
    golden(&c, BR_POLICY_MARKDOWN, "tests/fixtures/policy.md");
    golden(&c, BR_POLICY_HTML, "tests/fixtures/policy.html");

    ok(load("<bibrec><profile name=\"x\"><match dn=\"1\"/></profile></bibrec>", &c, err, sizeof err) < 0 &&
           strstr(err, "basis"),
       "a profile without a lawful basis is refused: %s", err);
    ok(load("<bibrec><profile name=\"x\" basis=\"because\"><match dn=\"1\"/></profile></bibrec>", &c, err,
            sizeof err) < 0 && strstr(err, "Art. 6(1)"),
       "an unknown basis is refused naming the six: %s", err);
    ok(load("<bibrec>\n<profile name=\"x\" basis=\"consent\"/></bibrec>", &c, err, sizeof err) < 0 &&
           strstr(err, "test.xml:2:") && strstr(err, "no <match>"),
       "a profile covering no line is refused: %s", err);
    ok(load("<bibrec><profile name=\"x\" basis=\"consent\"><match/></profile></bibrec>", &c, err,
            sizeof err) < 0,
       "an empty <match> is refused");
    ok(load("<bibrec><profile name=\"x\" basis=\"consent\"><match dn=\"1\"/></profile>"
            "<profile name=\"x\" basis=\"contract\"><match dn=\"2\"/></profile></bibrec>",
            &c, err, sizeof err) < 0 && strstr(err, "second profile"),
       "two profiles with one name are refused");
    load("<bibrec/>", &c, err, sizeof err);
    {
        br_buf_t out;
        br_buf_init(&out);
        br_policy_render(&c, BR_POLICY_MARKDOWN, &out);
        ok(strstr((char *)out.data, "WARNING: no recording profile is configured") != NULL,
           "without profiles the document says so");
        br_buf_free(&out);
    }
    free(xml);
    return tap_done();
}
