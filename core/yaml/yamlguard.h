#pragma once
// What a YAML input file may be before yaml-cpp builds a tree of it, checked on the parser's
// events: no anchors, aliases or tags (one alias can stand for megabytes, and yaml-cpp's tree
// does not count them; a tag changes what a value means), no key twice in one mapping (yaml-cpp
// keeps both and answers with the first), only plain keys, and caps on the size, the nesting and
// the number of values. Every reader of files (snapshot, config, expectations) goes through it
// (yaml/strictyaml_p.h).

#include <QByteArrayView>
#include <QString>

#include <optional>

namespace netmap {

struct YamlRefusal
{
    QString message; // plain text
    int line = 0; // 1-based
    int column = 0; // 1-based
};

struct YamlLimits
{
    qint64 maxBytes = 16 << 20; // the document's size
    int maxDepth = 64; // nesting of mappings and lists, flow or block
    qint64 maxNodes = 200000; // values and keys, counted as the parser reports them
    qint64 maxScalarBytes = 32 << 20; // the bytes all scalars hold together
};

// The first reason to refuse the document, with its position; nullopt when it may be loaded.
// Syntax errors are left to the loader, which reports them with their own position.
std::optional<YamlRefusal> refuseUnsafeYaml(QByteArrayView untrustedYaml,
                                            const YamlLimits &limits = {});

} // namespace netmap
