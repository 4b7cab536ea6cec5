#include "untrustedtext.h"

#include <QStringDecoder>
#include <QStringList>

namespace netmap::untrustedtext {

namespace {

constexpr char16_t kEsc = 0x1b;
constexpr char16_t kReplacement = 0xfffd;

bool isNonCharacter(char32_t c)
{
    return (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe;
}

// The length of the escape sequence starting at in[i] (an ESC): CSI (ESC [ params final),
// OSC (ESC ] ... BEL or ESC \, or to the end), or ESC and one more character.
qsizetype escapeLength(const QString &in, qsizetype i)
{
    const qsizetype n = in.size();
    if (i + 1 >= n)
        return 1;
    const char16_t kind = in[i + 1].unicode();
    // Only a printable ASCII character continues an escape sequence; before anything else
    // (a control character, or half of a surrogate pair) the ESC goes alone and what follows
    // is judged on its own.
    if (kind < 0x20 || kind > 0x7e)
        return 1;
    qsizetype j = i + 2;
    if (kind == u'[') {
        while (j < n && in[j].unicode() >= 0x30 && in[j].unicode() <= 0x3f)
            ++j;
        while (j < n && in[j].unicode() >= 0x20 && in[j].unicode() <= 0x2f)
            ++j;
        if (j < n && in[j].unicode() >= 0x40 && in[j].unicode() <= 0x7e)
            ++j;
        return j - i;
    }
    if (kind == u']' || kind == u'P' || kind == u'_' || kind == u'^' || kind == u'X') {
        // String sequences (OSC, DCS, APC, PM, SOS) end at BEL or ST; a newline also ends it
        // here so that one unterminated sequence cannot swallow the rest of the evidence.
        while (j < n) {
            const char16_t c = in[j].unicode();
            if (c == 0x07)
                return j + 1 - i;
            if (c == kEsc && j + 1 < n && in[j + 1] == u'\\')
                return j + 2 - i;
            if (c == u'\n')
                return j - i;
            ++j;
        }
        return j - i;
    }
    return 2;
}

enum class Breaks { Space, Keep };

// Shared by line() and block(): escape sequences and hidden characters removed, breaks either
// kept (newline, tab) or turned into spaces. Stops once maxChars characters are out.
QString clean(const QString &untrusted, Breaks breaks, qsizetype maxChars, bool *cut)
{
    const QString in = repaired(untrusted);
    QString out;
    out.reserve(qMin(in.size(), maxChars));
    *cut = false;
    for (qsizetype i = 0; i < in.size(); ++i) {
        if (out.size() >= maxChars) {
            *cut = true;
            break;
        }
        const char16_t u = in[i].unicode();
        if (u == kEsc) {
            i += escapeLength(in, i) - 1;
            continue;
        }
        if (u == u'\r' && i + 1 < in.size() && in[i + 1] == u'\n')
            continue; // CR LF is one break
        if (u == u'\n' || u == u'\r' || u == 0x2028 || u == 0x2029) {
            out += breaks == Breaks::Keep ? u'\n' : u' ';
            continue;
        }
        if (u == u'\t') {
            out += breaks == Breaks::Keep ? u'\t' : u' ';
            continue;
        }
        if (QChar::isHighSurrogate(u) && i + 1 < in.size()) { // a pair: repaired() made sure
            if (out.size() + 2 > maxChars) { // never half a pair
                *cut = true;
                break;
            }
            if (!isHidden(QChar::surrogateToUcs4(u, in[i + 1].unicode()))) {
                out += in[i];
                out += in[i + 1];
            }
            ++i;
            continue;
        }
        if (!isHidden(u))
            out += in[i];
    }
    return out;
}

} // namespace

bool isHidden(char32_t c)
{
    switch (QChar::category(c)) {
    case QChar::Other_Control:
    case QChar::Other_Format:
    case QChar::Separator_Line:
    case QChar::Separator_Paragraph:
        return true;
    default:
        return false;
    }
}

bool isPrintableAscii(QByteArrayView untrusted)
{
    for (const char ch : untrusted) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c > 0x7e)
            return false;
    }
    return true;
}

bool hasHidden(const QString &untrusted)
{
    for (qsizetype i = 0; i < untrusted.size(); ++i) {
        char32_t c = untrusted[i].unicode();
        if (QChar::isHighSurrogate(c) && i + 1 < untrusted.size()
            && untrusted[i + 1].isLowSurrogate())
            c = QChar::surrogateToUcs4(char16_t(c), untrusted[++i].unicode());
        if (QChar::isSurrogate(c) || isNonCharacter(c) || c == kReplacement || isHidden(c))
            return true;
    }
    return false;
}

QString fromUtf8(QByteArrayView untrusted)
{
    // QStringDecoder replaces every invalid sequence (encoded surrogates and overlong forms
    // included) with U+FFFD.
    QStringDecoder decode(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    return repaired(decode(untrusted));
}

QString repaired(const QString &untrusted)
{
    QString out = untrusted;
    for (qsizetype i = 0; i < out.size(); ++i) {
        const char16_t u = out[i].unicode();
        if (QChar::isHighSurrogate(u) && i + 1 < out.size() && out[i + 1].isLowSurrogate()) {
            if (isNonCharacter(QChar::surrogateToUcs4(u, out[i + 1].unicode()))) {
                out[i] = QChar(kReplacement);
                out.remove(i + 1, 1);
            } else {
                ++i;
            }
        } else if (QChar::isSurrogate(u) || isNonCharacter(u)) {
            out[i] = QChar(kReplacement);
        }
    }
    return out;
}

QString stripped(const QString &untrusted)
{
    bool cut = false;
    QString out = clean(untrusted, Breaks::Keep, untrusted.size(), &cut);
    out.remove(u'\n');
    out.remove(u'\t');
    return out;
}

QString line(const QString &untrusted, qsizetype maxChars)
{
    maxChars = qMax<qsizetype>(maxChars, 1);
    bool cut = false;
    QString out = clean(untrusted, Breaks::Space, maxChars, &cut);
    if (cut) {
        // The ellipsis takes the place of the last character (both halves of a pair).
        const bool pair = out.size() >= 2 && out.back().isLowSurrogate();
        out.chop(out.size() >= maxChars ? (pair ? 2 : 1) : 0);
        out += QChar(0x2026);
    }
    return out;
}

QString block(const QString &untrusted, qsizetype maxChars)
{
    bool cut = false;
    QString out = clean(untrusted, Breaks::Keep, qMax<qsizetype>(maxChars, 0), &cut);
    if (cut)
        out += QStringLiteral("\n[… output truncated at %1 characters]").arg(maxChars);
    return out;
}

QString visibleBlock(const QString &untrusted, qsizetype maxChars)
{
    const QString in = repaired(untrusted.left(qMax<qsizetype>(maxChars, 0)));
    QString out;
    out.reserve(in.size());
    for (qsizetype i = 0; i < in.size(); ++i) {
        const char16_t u = in[i].unicode();
        if (u == u'\n' || u == u'\t') {
            out += in[i];
            continue;
        }
        char32_t c = u;
        qsizetype width = 1;
        if (QChar::isHighSurrogate(u) && i + 1 < in.size()) {
            c = QChar::surrogateToUcs4(u, in[i + 1].unicode());
            width = 2;
        }
        if (!isHidden(c)) {
            out += in.mid(i, width);
        } else if (QChar::category(c) == QChar::Other_Control) {
            out += QStringLiteral("\\x%1").arg(uint(c), 2, 16, QLatin1Char('0'));
        } else {
            out += QStringLiteral("<U+%1>").arg(uint(c), 4, 16, QLatin1Char('0')).toUpper();
        }
        i += width - 1;
    }
    if (untrusted.size() > maxChars)
        out += QStringLiteral("\n[… %1 more characters not shown]")
                   .arg(untrusted.size() - maxChars);
    return out;
}

QString xmlChars(const QString &untrusted)
{
    QString out;
    out.reserve(untrusted.size());
    for (qsizetype i = 0; i < untrusted.size(); ++i) {
        const char16_t u = untrusted[i].unicode();
        if (QChar::isHighSurrogate(u)) {
            if (i + 1 < untrusted.size() && untrusted[i + 1].isLowSurrogate()) {
                out += untrusted[i];
                out += untrusted[++i];
            }
            continue;
        }
        if (QChar::isLowSurrogate(u))
            continue;
        if (u == u'\t' || u == u'\n' || u == u'\r' || (u >= 0x20 && u <= 0xfffd))
            out += untrusted[i];
    }
    return out;
}

QString markdownInline(const QString &untrusted, qsizetype maxChars)
{
    const QString in = line(untrusted, maxChars);
    QString out;
    out.reserve(in.size() + 16);
    // What can start markup inside a line ('!' and '(' need the '[' escaped here; '@': below).
    static const QString punct = QStringLiteral("\\`*_{}[]#|~");
    for (qsizetype i = 0; i < in.size(); ++i) {
        const QChar c = in[i];
        const char16_t u = c.unicode();
        if (u == u':' && in.mid(i + 1, 2) == QLatin1String("//")) {
            out += QStringLiteral("\\:"); // "scheme://" autolink
        } else if (u == u'.' && i >= 3
                   && in.mid(i - 3, 3).compare(QLatin1String("www"), Qt::CaseInsensitive) == 0) {
            out += QStringLiteral("\\."); // "www." autolink
        } else if (u == u'@') {
            // GitHub links any "local@domain.tld" after parsing, escaped or not: the at sign
            // is written as its full-width form, which reads the same and links nothing.
            out += QChar(0xff20);
        } else if (u == u'<') {
            out += QStringLiteral("&lt;");
        } else if (u == u'>') {
            out += QStringLiteral("&gt;");
        } else if (u == u'&') {
            out += QStringLiteral("&amp;");
        } else if (punct.contains(c)) {
            out += u'\\';
            out += c;
        } else {
            out += c;
        }
    }
    return out;
}

QString markdownFence(const QString &untrusted, qsizetype maxChars)
{
    QString body = block(untrusted, maxChars);
    // With no backtick left inside, nothing can close the fence early.
    body.replace(u'`', QChar(0x02cb));
    if (!body.endsWith(u'\n'))
        body += u'\n';
    return QStringLiteral("```text\n") + body + QStringLiteral("```\n");
}

bool yamlNeedsQuotes(const QString &value)
{
    if (value.isEmpty())
        return true;
    // Plain only for a letter followed by letters, digits, '_', '-' and '.'; this never reads
    // as a number, a timestamp, an alias, a tag or a collection.
    const QChar first = value.front();
    if (!((first >= u'a' && first <= u'z') || (first >= u'A' && first <= u'Z')))
        return true;
    for (QChar c : value) {
        const bool ok = (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z')
            || (c >= u'0' && c <= u'9') || c == u'_' || c == u'-' || c == u'.';
        if (!ok)
            return true;
    }
    // YAML 1.1 booleans and null (PyYAML's reading), YAML 1.2 core schema, and .inf/.nan
    // spellings: all begin with a letter.
    static const QStringList special {
        QStringLiteral("y"),    QStringLiteral("n"),     QStringLiteral("yes"),
        QStringLiteral("no"),   QStringLiteral("on"),    QStringLiteral("off"),
        QStringLiteral("true"), QStringLiteral("false"), QStringLiteral("null"),
        QStringLiteral("nan"),  QStringLiteral("inf"),
    };
    return special.contains(value.toLower());
}

QString terminalLine(const QString &untrusted, qsizetype maxChars)
{
    return line(untrusted, maxChars);
}

} // namespace netmap::untrustedtext
