#pragma once
// The live view's prompts and words, shared by its files: durations, netvms in words, and the
// confirmation boxes (plain text only, the question first, Cancel the default).

#include "model/qubename.h"
#include "model/untrustedtext.h"

#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QString>

#include <optional>

namespace netmap::liveprompts {

inline QString duration(int seconds)
{
    if (seconds % 60 == 0)
        return seconds == 60 ? QStringLiteral("1 minute")
                             : QStringLiteral("%1 minutes").arg(seconds / 60);
    return QStringLiteral("%1 seconds").arg(seconds);
}

inline QString netvmText(const std::optional<QubeName> &netvm)
{
    return netvm ? netvm->toString() : QStringLiteral("no netvm");
}

// Every label of a message box as plain text: what a qube or a tool printed shows literally
// (the informative text would otherwise be taken for rich text when it looks like it).
inline void makePlain(QMessageBox &box)
{
    for (QLabel *label : box.findChildren<QLabel *>())
        label->setTextFormat(Qt::PlainText);
}

// Confirmation boxes: plain text only, the question first, Cancel the default.
inline void prepareBox(QMessageBox &box, const QString &question, const QString &details,
                       const QString &yesText, bool warning)
{
    box.setIcon(warning ? QMessageBox::Warning : QMessageBox::Question);
    box.setWindowTitle(QStringLiteral("Qubes Network Map"));
    box.setTextFormat(Qt::PlainText);
    box.setText(untrustedtext::block(question, 2000));
    box.setInformativeText(untrustedtext::block(details, 4096));
    makePlain(box);
    QPushButton *yes = box.addButton(yesText, QMessageBox::YesRole);
    yes->setObjectName(QStringLiteral("confirmButton"));
    QPushButton *no = box.addButton(QMessageBox::Cancel);
    box.setDefaultButton(no);
    box.setEscapeButton(no);
}

} // namespace netmap::liveprompts
