// Fuzz target: the Markdown escaping of text from qubes and files (table cells and fenced
// evidence in the report). Nothing may become markup, leave its cell or close its fence.

#include "fuzzcheck.h"
#include "model/untrustedtext.h"

#include <QByteArray>

#include <cstddef>
#include <cstdint>

using namespace netmap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const int cap = 1 + data[0];
    const QString untrusted
        = QString::fromUtf8(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));

    // A cell: one line, no raw HTML, every Markdown punctuation mark escaped.
    static const QString punct = QStringLiteral("\\`*_{}[]#|~");
    const QString cell = untrustedtext::markdownInline(untrusted, cap);
    FUZZ_CHECK(fuzz::isOneLinePlainText(cell));
    FUZZ_CHECK(!cell.contains(u'<') && !cell.contains(u'>'));
    for (qsizetype i = 0; i < cell.size(); ++i) {
        if (cell.at(i) == u'\\') {
            FUZZ_CHECK(i + 1 < cell.size()
                       && (punct.contains(cell.at(i + 1)) || cell.at(i + 1) == u':'
                           || cell.at(i + 1) == u'.'));
            ++i;
        } else {
            FUZZ_CHECK(!punct.contains(cell.at(i)));
        }
    }
    // No e-mail autolink: no at sign at all; no "www." autolink: its dot is escaped.
    FUZZ_CHECK(!cell.contains(u'@'));
    FUZZ_CHECK(!cell.contains(QLatin1String("www."), Qt::CaseInsensitive));
    // No "scheme://" autolink: a colon before "//" is always escaped.
    for (qsizetype at = cell.indexOf(QLatin1String("://")); at >= 0;
         at = cell.indexOf(QLatin1String("://"), at + 1))
        FUZZ_CHECK(at > 0 && cell.at(at - 1) == u'\\');
    for (qsizetype i = 0; i < cell.size(); ++i) {
        if (cell.at(i) == u'&') {
            const QStringView rest = QStringView(cell).mid(i);
            FUZZ_CHECK(rest.startsWith(u"&lt;") || rest.startsWith(u"&gt;")
                       || rest.startsWith(u"&amp;"));
        }
    }

    // A fence: opened once, closed once, nothing inside can close it.
    const QString fence = untrustedtext::markdownFence(untrusted, cap);
    FUZZ_CHECK(fence.startsWith(QLatin1String("```text\n"))
               && fence.endsWith(QLatin1String("\n```\n")));
    const QString body = fence.mid(8, fence.size() - 8 - 4);
    FUZZ_CHECK(!body.contains(u'`'));
    for (const QChar c : body)
        FUZZ_CHECK(c == u'\n' || c == u'\t' || c.category() != QChar::Other_Control);
    return 0;
}
