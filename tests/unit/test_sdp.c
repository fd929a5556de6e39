/*
 * SDP: our offer round-trips through the parser, every buffer size either
 * fits or fails cleanly, and bodies that hang Debian 12's sofia-sip parser
 * are refused before they reach it.
 */
#include <errno.h>

#include "sip/sdp.h"
#include "tap.h"

int main(void)
{
    static const uint8_t pts[] = { 0, 8, 9, 18 };
    char buf[1024], *exact;
    br_sdp_media_t m;
    size_t need;
    int clean = 1;

    is_int(br_sdp_write(buf, sizeof buf, "192.0.2.77", 16384, pts, 4, 101, 1, 1), 0, "offer written");
    ok(strstr(buf, "m=audio 16384 RTP/AVP 0 8 9 18 101\r\n") && strstr(buf, "a=recvonly\r\n"),
       "one m= line with every codec and recvonly");
    is_int(br_sdp_parse(buf, strlen(buf), &m), 0, "our offer parses");
    ok(m.port == 16384 && m.npts == 4 && m.dtmf_pt == 101 && strcmp(m.addr, "192.0.2.77") == 0,
       "port, codecs, telephone-event and address read back");
    need = strlen(buf) + 1;
    for (size_t sz = 1; sz < need; sz++) {
        exact = malloc(sz); /* exactly sz bytes, so ASan sees any overrun */
        if (br_sdp_write(exact, sz, "192.0.2.77", 16384, pts, 4, 101, 1, 1) != -ENOSPC)
            clean = 0;
        free(exact);
    }
    ok(clean, "every buffer smaller than the offer gives -ENOSPC without writing past it");

    is_int(br_sdp_parse("m=audio 1 X :", 13, &m), -EPROTO, "an m= line that hangs sofia-sip 1.12 is refused");
    is_int(br_sdp_parse("v=0\r\n m=audio 1 X :\r\n", 21, &m), -EPROTO, "also with leading whitespace");
    is_int(br_sdp_parse("v=0\r\nm=audio 4000 RTP/AVP 0 (\r\n", 31, &m), -EPROTO, "a format list with junk");
    is_int(br_sdp_parse("v=0\r\nm=audio\r\n", 14, &m), -EPROTO, "a truncated m= line");
    is_int(br_sdp_parse("m=audio 1 RTP/\xa4\xa4" "AVP 0\r\n", 24, &m), -EPROTO,
           "a profile with bytes outside a token (found by fuzzing: sofia-sip hangs)");
    is_int(br_sdp_parse("m=audio 0C RTP//AVP 0\r\n", 23, &m), -EPROTO, "a port with a letter, an empty profile word");
    is_int(br_sdp_parse("m=cudio 16384 RTP/BVP \t\0008", 25, &m), -EPROTO,
           "a NUL inside the format list (found by fuzzing: sofia-sip hangs)");
    is_int(br_sdp_parse("v=0\r\n\0m=audio 4000 RTP/AVP 0\r\n", 30, &m), -EPROTO, "a NUL anywhere in the body");
    is_int(br_sdp_parse("m=audio 4000/2 UDP/TLS/RTP/SAVPF 0\r\n", 36, &m), 0, "port/count and a long RTP profile pass");
    {
        const char *answer = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
                             "m=audio 4000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
                             "a=sendonly\r\n";
        is_int(br_sdp_parse(answer, strlen(answer), &m), 0, "a normal answer parses");
    }
    ok(m.npts == 1 && m.pts[0] == 8 && m.dtmf_pt == 101 && strcmp(m.direction, "sendonly") == 0,
       "PCMA, telephone-event 101, sendonly");
    is_int(br_sdp_parse("", 0, &m), -EPROTO, "an empty body");
    return tap_done();
}
