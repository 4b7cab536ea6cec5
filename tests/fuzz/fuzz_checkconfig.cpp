// Fuzz target: the check configuration YAML (--config FILE or the user's file).

#include "checks/checkconfig.h"
#include "fuzzcheck.h"

#include <QByteArray>
#include <QUrl>

#include <cstddef>
#include <cstdint>

using namespace netmap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray untrusted(reinterpret_cast<const char *>(data), qsizetype(size));
    const auto config = checkConfigFromYaml(untrusted, QStringLiteral("fuzz.yaml"));
    if (!config) {
        const Error &e = config.error();
        FUZZ_CHECK(e.file == QLatin1String("fuzz.yaml"));
        FUZZ_CHECK(!e.message.isEmpty() && e.message.size() < 512);
        FUZZ_CHECK(fuzz::isOneLinePlainText(e.message));
        FUZZ_CHECK(e.line >= 0 && e.column >= 0);
        return 0;
    }
    // Whatever is accepted is what the probe script may carry into a qube: validated URLs with
    // nothing a shell or curl would read as more than one word.
    const CheckConfig &c = *config;
    FUZZ_CHECK(c.ipEchoUrls.size() >= 2);
    QStringList urls = c.ipEchoUrls;
    urls << c.torCheckUrl;
    for (const QString &u : urls) {
        const QUrl url(u, QUrl::StrictMode);
        FUZZ_CHECK(url.isValid());
        FUZZ_CHECK(url.scheme() == QLatin1String("http") || url.scheme() == QLatin1String("https"));
        for (const QChar ch : u)
            FUZZ_CHECK(ch.unicode() > 0x20 && ch.unicode() < 0x7f && ch != u'\'' && ch != u'\\');
    }
    for (const QChar ch : c.dnsWhoami)
        FUZZ_CHECK(ch.isLetterOrNumber() || ch == u'.' || ch == u'-' || ch == u'_');
    FUZZ_CHECK(c.timeoutSeconds > 0 && c.connectTimeoutSeconds > 0 && c.concurrency > 0);
    for (int port : c.isolationPorts)
        FUZZ_CHECK(port > 0 && port <= 65535);
    return 0;
}
