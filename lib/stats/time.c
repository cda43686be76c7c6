/* Times: RFC 3339 / ISO 8601 parsing (records and --since/--until), relative
 * ages, and formatting, all in integer milliseconds since the epoch (UTC). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "aie/stats.h"
#include "record.h"
#include "stats_internal.h"

/* Howard Hinnant's days_from_civil / civil_from_days */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

static int digits(const char *s, size_t n, size_t at, int count, int *out)
{
    if (at + (size_t)count > n)
        return -1;
    int v = 0;
    for (int i = 0; i < count; i++) {
        char c = s[at + (size_t)i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return 0;
}

int aie_stats_parse_rfc3339(const char *s, size_t n, int64_t *ms)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
    if (digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || digits(s, n, 5, 2, &mo) || s[7] != '-' ||
        digits(s, n, 8, 2, &d))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return -1;
    size_t i = 10;
    int64_t offset_min = 0;
    if (i < n && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        if (digits(s, n, i + 1, 2, &h) || i + 3 >= n || s[i + 3] != ':' || digits(s, n, i + 4, 2, &mi))
            return -1;
        i += 6;
        if (i < n && s[i] == ':') {
            if (digits(s, n, i + 1, 2, &sec))
                return -1;
            i += 3;
            if (i < n && (s[i] == '.' || s[i] == ',')) {
                i++;
                int nd = 0;
                while (i < n && s[i] >= '0' && s[i] <= '9') {
                    if (nd < 3)
                        frac = frac * 10 + (s[i] - '0');
                    nd++;
                    i++;
                }
                if (!nd)
                    return -1;
                for (; nd < 3; nd++)
                    frac *= 10;
            }
        }
        if (h > 23 || mi > 59 || sec > 60)
            return -1;
        if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < n && (s[i] == '+' || s[i] == '-')) {
            int sign = s[i] == '-' ? -1 : 1, oh, om = 0;
            if (digits(s, n, i + 1, 2, &oh))
                return -1;
            i += 3;
            if (i < n && s[i] == ':')
                i++;
            if (i < n) {
                if (digits(s, n, i, 2, &om))
                    return -1;
                i += 2;
            }
            if (oh > 23 || om > 59)
                return -1;
            offset_min = sign * (oh * 60 + om);
        }
    }
    if (i != n)
        return -1;
    int64_t days = days_from_civil(y, mo, d);
    *ms = ((days * 86400 + h * 3600 + mi * 60 + sec) - offset_min * 60) * 1000 + frac;
    return 0;
}

int aie_stats_parse_time(const char *s, int64_t now_ms, int64_t *out_ms)
{
    if (!s || !*s)
        return AIE_EINVAL;
    if (!strcmp(s, "now")) {
        *out_ms = now_ms;
        return 0;
    }
    if (!aie_stats_parse_rfc3339(s, strlen(s), out_ms))
        return 0;
    /* an age: NUMBER UNIT */
    char *end;
    double v = strtod(s, &end);
    if (end == s || !(v >= 0) || !isfinite(v) || s[0] == '+' || s[0] == '-' || !end[0] || end[1])
        return AIE_EINVAL;
    double unit;
    switch (end[0]) {
    case 's': unit = 1e3; break;
    case 'm': unit = 60e3; break;
    case 'h': unit = 3600e3; break;
    case 'd': unit = 86400e3; break;
    case 'w': unit = 7 * 86400e3; break;
    default: return AIE_EINVAL;
    }
    double age = v * unit;
    if (age > 1e15)
        return AIE_EINVAL;
    *out_ms = now_ms - (int64_t)llround(age);
    return 0;
}

void aie_stats_format_ts(char buf[32], int64_t ms)
{
    int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int milli = (int)(ms - s * 1000);
    int64_t days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
    int64_t sod = s - days * 86400;
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d, (int)(sod / 3600),
             (int)(sod / 60 % 60), (int)(sod % 60), milli);
}

void aie_stats_format_day(char buf[16], int64_t ms)
{
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, 16, "%04d-%02d-%02d", y, m, d);
}
