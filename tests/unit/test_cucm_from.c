/*
 * The From-parameter parser against the CUCM fixtures (one line per CUCM
 * generation, with the expected parse in a second file), plus hostile and
 * edge-case input that a SIP peer could send.
 */
#include <errno.h>

#include "sip/cucm_from.h"
#include "tap.h"

#define MAXLINE 4096

static char *field(char **cursor)
{
    char *s = *cursor, *tab;
    if (!s)
        return "";
    tab = strchr(s, '\t');
    if (tab) {
        *tab = 0;
        *cursor = tab + 1;
    } else {
        s[strcspn(s, "\n")] = 0;
        *cursor = NULL;
    }
    return s;
}

/* '-' means absent, "(empty)" present but empty. */
static void check_opt(const char *label, const char *name, const char *want, const char *got,
                      int present)
{
    if (strcmp(want, "-") == 0)
        ok(!present, "%s: %s absent", label, name);
    else if (strcmp(want, "(empty)") == 0)
        ok(present && got[0] == 0, "%s: %s present and empty", label, name);
    else
        is_str(got, want, "%s: %s", label, name);
}

static const char *find_header(const char *label, char lines[][MAXLINE], int n)
{
    size_t len = strlen(label);
    for (int i = 0; i < n; i++)
        if (strncmp(lines[i], label, len) == 0 && lines[i][len] == '\t')
            return lines[i] + len + 1;
    return NULL;
}

static void fixtures(void)
{
    static char headers[64][MAXLINE];
    char path[1024], line[MAXLINE];
    int nh = 0, cases = 0;
    FILE *f;

    f = fopen(tap_srcpath("tests/fixtures/cucm-from-headers.txt", path, sizeof path), "r");
    if (!ok(f != NULL, "open %s", path))
        return;
    while (nh < 64 && fgets(line, sizeof line, f))
        if (line[0] != '#' && line[0] != '\n') {
            line[strcspn(line, "\n")] = 0;
            strcpy(headers[nh++], line);
        }
    fclose(f);
    f = fopen(tap_srcpath("tests/fixtures/cucm-from-headers.expected", path, sizeof path), "r");
    if (!ok(f != NULL, "open %s", path))
        return;
    while (fgets(line, sizeof line, f)) {
        char *cur = line, *label, *stream;
        const char *hdr;
        br_cucm_from_t p;
        int rc;

        if (line[0] == '#' || line[0] == '\n')
            continue;
        label = field(&cur);
        stream = field(&cur);
        hdr = find_header(label, headers, nh);
        if (!ok(hdr != NULL, "%s: header present in fixtures", label))
            continue;
        cases++;
        rc = br_cucm_from_parse(hdr, strlen(hdr), &p);
        if (strncmp(stream, "error:", 6) == 0) {
            ok(rc < 0, "%s: refused", label);
            is_str(br_cucm_from_strerror(rc), stream + 6, "%s: error kind", label);
            continue;
        }
        if (!is_int(rc, 0, "%s: parses", label))
            continue;
        is_int(p.stream, strcmp(stream, "near") == 0 ? BR_STREAM_NEAR : BR_STREAM_FAR,
               "%s: stream %s", label, stream);
        is_str(p.refci, field(&cur), "%s: refci", label);
        check_opt(label, "near_device", field(&cur), p.near_device, p.present & BR_FROM_NEAR_DEVICE);
        check_opt(label, "near_addr", field(&cur), p.near_addr, p.present & BR_FROM_NEAR_ADDR);
        check_opt(label, "far_refci", field(&cur), p.far_refci, p.present & BR_FROM_FAR_REFCI);
        check_opt(label, "far_device", field(&cur), p.far_device, p.present & BR_FROM_FAR_DEVICE);
        check_opt(label, "far_addr", field(&cur), p.far_addr, p.present & BR_FROM_FAR_ADDR);
        check_opt(label, "far_guid", field(&cur), p.far_guid, p.present & BR_FROM_FAR_GUID);
        check_opt(label, "session_id", field(&cur), p.session_id, p.present & BR_FROM_SESSION_ID);
    }
    fclose(f);
    ok(cases >= 10, "all %d fixture cases ran", cases);
}

static int parse(const char *s, br_cucm_from_t *p)
{
    return br_cucm_from_parse(s, strlen(s), p);
}

static void edge_cases(void)
{
    br_cucm_from_t p;
    char big[70000];
    size_t n;

    is_int(parse("<sip:1@h;x-nearend;x-refci=1;x-farend>", &p), -BR_FROM_ERR_CONFLICT,
           "both flags: conflict");
    is_int(parse("<sip:1@h;x-nearend>", &p), -BR_FROM_ERR_MISSING_REFCI, "flag without refci");
    is_int(parse("<sip:1@h;x-nearend;x-refci=>", &p), -BR_FROM_ERR_INVALID_REFCI, "empty refci");
    is_int(parse("<sip:1@h;x-nearend;x-refci=1;x-refci=2>", &p), -BR_FROM_ERR_CONFLICT,
           "refci given twice with different values");
    is_int(parse("<sip:1@h;x-nearend;x-refci=123456789012345678901234567890>", &p),
           -BR_FROM_ERR_INVALID_REFCI, "over-long refci");
    is_int(parse("\"A <odd> name\" <sip:1@h;X-NearEnd;X-REFCI=42>;tag=1", &p), 0,
           "brackets inside a quoted display name, upper-case names");
    is_str(p.refci, "42", "refci from upper-case name");
    is_int(parse("<sip:1@h;x-farend;x-refci=7;x-farendaddr=%2B4930123>", &p), 0, "escaped value");
    is_str(p.far_addr, "+4930123", "percent-escape undone");
    is_int(parse("<sip:1@h;x-nearend;x-refci=7", &p), -BR_FROM_ERR_SYNTAX, "unclosed <");
    is_int(parse("\"unterminated <sip:1@h;x-nearend;x-refci=7>", &p), -BR_FROM_ERR_SYNTAX,
           "unterminated quote");
    is_int(parse("<http://h;x-nearend;x-refci=7>", &p), -BR_FROM_ERR_SYNTAX, "not a SIP URI");
    is_int(parse("<sip:1@h;x-nearend;x-refci=7;x-nearenddevice=%00>", &p), -BR_FROM_ERR_SYNTAX,
           "NUL byte in a value");
    is_int(parse("<sip:1@h;x-nearend;x-refci=7?x-farend>", &p), 0, "URI headers are not parameters");
    is_int(parse("sip:1@h;x-nearend;x-refci=9", &p), 0, "addr-spec without brackets");
    is_int(br_cucm_from_parse(NULL, 0, &p), -BR_FROM_ERR_SYNTAX, "NULL input");
    {
        char *four = malloc(4); /* no NUL after it: ASan catches a fifth byte read */
        memcpy(four, "sips", 4);
        is_int(br_cucm_from_parse(four, 4, &p), -BR_FROM_ERR_SYNTAX, "\"sips\" without a colon, no over-read");
        free(four);
    }
    is_int(br_cucm_from_parse("<sip:1@h;x-nearend;x-refci=5>", 10, &p), -BR_FROM_ERR_SYNTAX,
           "length bounds the input (no NUL needed)");

    n = (size_t)snprintf(big, sizeof big, "<sip:1@h;x-nearend;x-refci=1");
    while (n + 8 < sizeof big - 2)
        n += (size_t)snprintf(big + n, sizeof big - n, ";p%04zu", n % 10000);
    big[n++] = '>';
    big[n] = 0;
    is_int(parse(big, &p), -BR_FROM_ERR_TOO_MANY, "thousands of parameters refused");

    n = (size_t)snprintf(big, sizeof big, "<sip:1@h;x-nearend;x-refci=1;x-nearenddevice=");
    memset(big + n, 'A', 200);
    strcpy(big + n + 200, ">");
    is_int(parse(big, &p), -BR_FROM_ERR_TOO_LONG, "over-long device name refused, not cut");
}

int main(void)
{
    fixtures();
    edge_cases();
    return tap_done();
}
