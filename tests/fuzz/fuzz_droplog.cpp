// Fuzz target: the kernel log lines of the dropped-traffic watch (journalctl/dmesg output read
// from a network qube through qvm-run, so the qube controls every byte).

#include "fuzzcheck.h"
#include "live/droplog.h"

#include <QByteArray>
#include <QHostAddress>

#include <cstddef>
#include <cstdint>

using namespace netmap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView untrusted(reinterpret_cast<const char *>(data), qsizetype(size));
    QString why;
    const auto packet = parseDropLogLine(untrusted, "0123456789abcdef", &why);
    if (!packet) {
        FUZZ_CHECK(!why.isEmpty() && why.size() < 512 && fuzz::isOneLinePlainText(why));
        return 0;
    }
    QHostAddress a;
    FUZZ_CHECK(a.setAddress(packet->source) && a.protocol() == QAbstractSocket::IPv4Protocol);
    FUZZ_CHECK(a.setAddress(packet->destination) && a.protocol() == QAbstractSocket::IPv4Protocol);
    for (const QString *s : {&packet->inInterface, &packet->outInterface, &packet->protocol})
        FUZZ_CHECK(s->size() <= 16 && fuzz::isOneLinePlainText(*s));
    FUZZ_CHECK(packet->sourcePort >= -1 && packet->sourcePort <= 65535);
    FUZZ_CHECK(packet->destinationPort >= -1 && packet->destinationPort <= 65535);
    FUZZ_CHECK(packet->icmpType >= -1 && packet->icmpType <= 255);
    FUZZ_CHECK(packet->icmpCode >= -1 && packet->icmpCode <= 255);
    const QString service = packet->describeService();
    FUZZ_CHECK(!service.isEmpty() && fuzz::isOneLinePlainText(service));
    return 0;
}
