#pragma once
// Text from a qube or a file on its way to a sink (terminal, widget, SVG, Markdown, YAML): the
// one place that decides which characters pass and how each sink's syntax is neutralised.

#include <QByteArrayView>
#include <QString>

namespace netmap::untrustedtext {

// Characters never shown as they are: Unicode's Cc (C0, DEL, C1), Cf (bidi embeddings,
// overrides and isolates, U+061C, zero-width characters, soft hyphen, BOM, tag characters),
// Zl and Zp (U+2028, U+2029). Decided by QChar::category, not by a list.
bool isHidden(char32_t c);

// True when every byte is printable ASCII (U+0020..U+007E): the test for protocol words and
// fields that are never anything else.
bool isPrintableAscii(QByteArrayView untrusted);

// True when the text holds a hidden character, a lone surrogate, a noncharacter or U+FFFD (the
// mark of bytes that were not UTF-8): for parsers that refuse such text instead of cleaning it.
bool hasHidden(const QString &untrusted);

// Bytes a qube printed as text: invalid UTF-8, including encoded surrogates and overlong forms,
// becomes U+FFFD.
QString fromUtf8(QByteArrayView untrusted);

// Lone UTF-16 surrogates and noncharacters (U+FFFE, U+FFFF, U+FDD0..U+FDEF, ...) become U+FFFD;
// nothing else changes. Every operation below starts with it.
QString repaired(const QString &untrusted);

// Terminal escape sequences (CSI, OSC, two-character ESC sequences) removed whole, then every
// hidden character removed, newlines and tabs included.
QString stripped(const QString &untrusted);

// One line for a label, cell, tooltip or terminal line: escape sequences and hidden characters
// removed, line breaks and tabs become spaces, at most maxChars characters (an ellipsis marks
// the cut).
QString line(const QString &untrusted, qsizetype maxChars = 160);

// A block for evidence: like line(), but newlines and tabs are kept (CR LF and a lone CR become
// a newline); past maxChars the text is cut and a last line says how much was left out.
QString block(const QString &untrusted, qsizetype maxChars = 16 << 10);

// A block that shows what it removes: newlines and tabs kept, every other hidden character
// written as \xNN (controls) or <U+XXXX> (format characters, line and paragraph separators),
// escape sequences included. For raw evidence a reader must be able to inspect.
QString visibleBlock(const QString &untrusted, qsizetype maxChars = 1 << 20);

// Only characters XML 1.0 allows (tab, newline, CR, U+0020..U+D7FF, U+E000..U+FFFD and valid
// surrogate pairs); the rest is dropped. Markup characters are left to the XML writer.
QString xmlChars(const QString &untrusted);

// Inline Markdown (a table cell, a list item): one line, Markdown and HTML punctuation escaped,
// no autolink (scheme://, www., e-mail), at most maxChars characters before escaping.
QString markdownInline(const QString &untrusted, qsizetype maxChars = 300);

// A fenced code block holding block(): the content has no backtick left, so it cannot close the
// fence, and nothing inside a fence is markup.
QString markdownFence(const QString &untrusted, qsizetype maxChars = 16 << 10);

// True when a string written as a plain YAML scalar could be read back as something else (a
// boolean, null, a number, a timestamp, an alias, a tag, a flow collection) or is not plain
// ASCII: such a string must be written double-quoted, with every character outside printable
// ASCII escaped (yaml-cpp's EscapeNonAscii), so DEL, controls and U+2028 survive any reader.
bool yamlNeedsQuotes(const QString &value);

// One line for a terminal: line() with a cap that keeps a single terminal line sane.
QString terminalLine(const QString &untrusted, qsizetype maxChars = 4096);

} // namespace netmap::untrustedtext
