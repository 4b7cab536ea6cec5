#pragma once
// Test helper: a network qube for the real qvm-run (tests/support/realqubes.h), run by the
// qrexec-client stand-in as `qube.sh QUBE USER CMD` (qrexec_client.py --fixture). It plays the
// drop watch's side in the qube: it notes each command in DIR/calls.log ("QUBE USER<TAB>CMD",
// the command on one line) and answers by what it is: arm ("netmap-armed 7 2": the rule before
// handle 7 and 2 qubes-firewall logging rules; DIR/arm-out instead where it exists; or exit 3
// with the text of DIR/arm-fail), the kernel log stream (DIR/lines with %TOKEN% filled in, then an
// empty line every 0.2 s until qrexec-client goes away, as a follow of the kernel log waits),
// disarm. DIR is baked in: the real qvm-run passes no environment of the test through.

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QString>

namespace netmap::test {

inline const char kScriptedNetQube[] = R"SH(#!/bin/sh
dir='%DIR%'
printf '%s %s\t%s\n' "$1" "$2" "$(printf %s "$3" | tr '\n' ' ')" >> "$dir/calls.log"
case "$3" in
*"nft insert rule"*)
    if [ -e "$dir/arm-fail" ]; then cat "$dir/arm-fail" >&2; exit 3; fi
    if [ -e "$dir/arm-out" ]; then cat "$dir/arm-out"; else echo "netmap-armed 7 2"; fi ;;
*journalctl*)
    token=$(grep -o 'netmap-drop-[0-9a-f]*' "$dir/calls.log" | tail -n 1 | sed 's/^netmap-drop-//')
    [ -e "$dir/lines" ] && sed "s/%TOKEN%/$token/g" "$dir/lines"
    while echo; do sleep 0.2; done ;;
*"nft delete rule"*)
    echo "netmap-disarmed" ;;
*)
    echo "unexpected command" >&2
    exit 2 ;;
esac
)SH";

// Writes DIR/qube.sh; returns its path (empty on failure).
inline QString writeScriptedNetQube(const QString &dir)
{
    const QString path = QDir(dir).filePath(QStringLiteral("qube.sh"));
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return {};
    f.write(QByteArray(kScriptedNetQube).replace("%DIR%", dir.toLocal8Bit()));
    f.close();
    if (!f.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner))
        return {};
    return path;
}

} // namespace netmap::test
