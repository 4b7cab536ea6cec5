#pragma once
// What a YAML input file may be before yaml-cpp builds a tree of it: no anchors or aliases (one
// alias can stand for megabytes, and yaml-cpp's tree does not count them), flow nesting within a
// depth, and a cap on the bytes its scalars hold. Used by every reader of files (snapshot,
// config, expectations).

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

constexpr int kMaxYamlFlowDepth = 64;
constexpr qint64 kMaxYamlScalarBytes = 32 << 20;

// The first reason to refuse the document, with its position; nullopt when it may be loaded.
// Syntax errors are left to the loader, which reports them with their own position.
std::optional<YamlRefusal> refuseUnsafeYaml(QByteArrayView untrustedYaml,
                                            int maxFlowDepth = kMaxYamlFlowDepth,
                                            qint64 maxScalarBytes = kMaxYamlScalarBytes);

} // namespace netmap
