/*
 * Fuzzes the parser of CUCM's recording From header (src/sip/cucm_from.c),
 * which reads text straight off a SIP trunk. The input is one header value;
 * it is passed without a terminating NUL so a read past len shows up.
 *
 * On success the harness checks what the rest of the daemon relies on:
 * every field is a terminated string, refci is the digits that pair the
 * two legs, a parameter's bit is set exactly when its field was filled,
 * and phone device names are upper case.
 */
#include <ctype.h>
#include <strings.h>

#include "fuzz.h"
#include "sip/cucm_from.h"

#define ALL_PRESENT_BITS                                                                     \
    (BR_FROM_NEAR_DEVICE | BR_FROM_NEAR_ADDR | BR_FROM_NEAR_CLUSTER | BR_FROM_FAR_REFCI |    \
     BR_FROM_FAR_DEVICE | BR_FROM_FAR_ADDR | BR_FROM_FAR_CLUSTER | BR_FROM_FAR_GUID |        \
     BR_FROM_NEAR_GUID | BR_FROM_SESSION_ID)

static int all_digits(const char *s)
{
    if (!s[0])
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

static int all_hex(const char *s)
{
    for (; *s; s++)
        if (!isxdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* A field whose bit is clear was never written, so it is still empty
 * (the parser memsets the result first). */
static void check_optional(const br_cucm_from_t *f, unsigned bit, const char *field)
{
    if (!(f->present & bit))
        FUZZ_CHECK(field[0] == 0);
}

/* CUCM 10 sends SEP device names in lower case; the parser upper-cases
 * them so that the two legs of one phone compare equal. */
static void check_device(const char *dev)
{
    if (strncasecmp(dev, "SEP", 3) != 0)
        return;
    for (; *dev; dev++)
        FUZZ_CHECK(!islower((unsigned char)*dev));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *hdr = fuzz_dup(data, size);
    br_cucm_from_t f;
    int rc;

    rc = br_cucm_from_parse(hdr, size, &f);
    FUZZ_CHECK(rc <= 0);
    FUZZ_CHECK(rc == 0 || strcmp(br_cucm_from_strerror(rc), "unknown-error") != 0);
    if (rc == 0) {
        FUZZ_CHECK(f.stream == BR_STREAM_NEAR || f.stream == BR_STREAM_FAR);
        FUZZ_CHECK((f.present & ~(unsigned)ALL_PRESENT_BITS) == 0);

        FUZZ_CHECK(FUZZ_TERMINATED(f.refci));
        FUZZ_CHECK(FUZZ_TERMINATED(f.near_device));
        FUZZ_CHECK(FUZZ_TERMINATED(f.near_addr));
        FUZZ_CHECK(FUZZ_TERMINATED(f.near_cluster));
        FUZZ_CHECK(FUZZ_TERMINATED(f.far_refci));
        FUZZ_CHECK(FUZZ_TERMINATED(f.far_device));
        FUZZ_CHECK(FUZZ_TERMINATED(f.far_addr));
        FUZZ_CHECK(FUZZ_TERMINATED(f.far_cluster));
        FUZZ_CHECK(FUZZ_TERMINATED(f.far_guid));
        FUZZ_CHECK(FUZZ_TERMINATED(f.near_guid));
        FUZZ_CHECK(FUZZ_TERMINATED(f.session_id));

        FUZZ_CHECK(all_digits(f.refci));
        if (f.present & BR_FROM_FAR_REFCI)
            FUZZ_CHECK(all_digits(f.far_refci));
        FUZZ_CHECK(all_hex(f.far_guid) && all_hex(f.near_guid) && all_hex(f.session_id));

        check_optional(&f, BR_FROM_NEAR_DEVICE, f.near_device);
        check_optional(&f, BR_FROM_NEAR_ADDR, f.near_addr);
        check_optional(&f, BR_FROM_NEAR_CLUSTER, f.near_cluster);
        check_optional(&f, BR_FROM_FAR_REFCI, f.far_refci);
        check_optional(&f, BR_FROM_FAR_DEVICE, f.far_device);
        check_optional(&f, BR_FROM_FAR_ADDR, f.far_addr);
        check_optional(&f, BR_FROM_FAR_CLUSTER, f.far_cluster);
        check_optional(&f, BR_FROM_FAR_GUID, f.far_guid);
        check_optional(&f, BR_FROM_NEAR_GUID, f.near_guid);
        check_optional(&f, BR_FROM_SESSION_ID, f.session_id);

        check_device(f.near_device);
        check_device(f.far_device);
    }
    free(hdr);
    return 0;
}
