#pragma once
// The Markdown write-up: "Network flow and egress IP mapping", "Security verification tests",
// findings, and the raw evidence in fenced code blocks. Table cells are escaped so that nothing
// read from a qube or a file can become markup; evidence sits only inside fences without
// backticks (untrustedtext::markdownInline, untrustedtext::markdownFence).

#include <QByteArray>
#include <QString>

namespace netmap {

struct Snapshot;

struct MarkdownOptions
{
    bool includeEvidence = true; // the commands and outputs, fenced
    bool includeTemplates = false;
    QString picture; // the exported picture to link from the summary (a relative path), if any
};

QByteArray exportMarkdown(const Snapshot &snapshot, const MarkdownOptions &options = {});

} // namespace netmap
