// Fuzz target: the untrusted-text module (model/untrustedtext.h), every operation on the same
// bytes. A line holds no hidden character and no break, a block no hidden character but newline
// and tab, XML text only characters XML 1.0 allows, nothing holds a lone surrogate, and each
// operation keeps its cap.

#include "fuzzcheck.h"
#include "model/untrustedtext.h"

#include <QByteArray>

#include <cstddef>
#include <cstdint>

using namespace netmap;

namespace {

// No lone surrogate, no noncharacter, no hidden character except the ones allowed.
bool clean(const QString &text, bool breaksAllowed)
{
    for (qsizetype i = 0; i < text.size(); ++i) {
        char32_t c = text.at(i).unicode();
        if (QChar::isHighSurrogate(c)) {
            if (i + 1 >= text.size() || !text.at(i + 1).isLowSurrogate())
                return false;
            c = QChar::surrogateToUcs4(char16_t(c), text.at(++i).unicode());
        } else if (QChar::isLowSurrogate(c)) {
            return false;
        }
        if ((c & 0xfffe) == 0xfffe || (c >= 0xfdd0 && c <= 0xfdef))
            return false;
        if (breaksAllowed && (c == u'\n' || c == u'\t'))
            continue;
        if (untrustedtext::isHidden(c))
            return false;
    }
    return true;
}

bool xmlAllowed(const QString &text)
{
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char16_t u = text.at(i).unicode();
        if (QChar::isHighSurrogate(u)) {
            if (i + 1 >= text.size() || !text.at(i + 1).isLowSurrogate())
                return false;
            ++i;
            continue;
        }
        if (QChar::isLowSurrogate(u))
            return false;
        if (!(u == u'\t' || u == u'\n' || u == u'\r' || (u >= 0x20 && u <= 0xfffd)))
            return false;
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const qsizetype cap = 1 + data[0] * 4;
    const QByteArrayView bytes(reinterpret_cast<const char *>(data + 2), qsizetype(size - 2));
    // Half the inputs as UTF-8, half as raw UTF-16 (lone surrogates and all).
    QString untrusted;
    if (data[1] & 1)
        untrusted = untrustedtext::fromUtf8(bytes);
    else
        untrusted = QString(reinterpret_cast<const QChar *>(bytes.data()), bytes.size() / 2);

    const QString line = untrustedtext::line(untrusted, cap);
    FUZZ_CHECK(clean(line, false));
    FUZZ_CHECK(line.size() <= cap);
    FUZZ_CHECK(!line.contains(u'\n') && !line.contains(u'\t'));
    FUZZ_CHECK(!untrustedtext::hasHidden(line) || line.contains(QChar(0xfffd)));

    const QString block = untrustedtext::block(untrusted, cap);
    FUZZ_CHECK(clean(block, true));
    FUZZ_CHECK(block.size() <= cap + 64);

    const QString stripped = untrustedtext::stripped(untrusted);
    FUZZ_CHECK(clean(stripped, false));

    const QString visible = untrustedtext::visibleBlock(untrusted, cap);
    FUZZ_CHECK(clean(visible, true));

    const QString xml = untrustedtext::xmlChars(untrusted);
    FUZZ_CHECK(xmlAllowed(xml));

    const QString repaired = untrustedtext::repaired(untrusted);
    FUZZ_CHECK(repaired.size() <= untrusted.size());
    FUZZ_CHECK(xmlAllowed(untrustedtext::xmlChars(repaired)));

    // YAML: a value that may stay plain is plain ASCII starting with a letter.
    if (!untrustedtext::yamlNeedsQuotes(untrusted)) {
        FUZZ_CHECK(!untrusted.isEmpty() && untrusted.at(0).isLetter());
        for (const QChar c : untrusted)
            FUZZ_CHECK(c.unicode() < 0x7f
                       && (c.isLetterOrNumber() || c == u'-' || c == u'_' || c == u'.'));
    }

    // Markdown: no at sign, no www., no raw markup.
    const QString inlineText = untrustedtext::markdownInline(untrusted, cap);
    FUZZ_CHECK(clean(inlineText, false));
    FUZZ_CHECK(!inlineText.contains(u'@') && !inlineText.contains(u'<'));
    FUZZ_CHECK(!inlineText.contains(QLatin1String("www."), Qt::CaseInsensitive));
    return 0;
}
