#pragma once
// DrillDialog: asks before the kill-switch drill and shows exactly what it will run: the steps
// in words, then every qvm-run command line with its script, as plain text.

#include "checks/verifier.h"

#include <QDialog>

class QPlainTextEdit;
class QPushButton;

namespace netmap {

class DrillDialog : public QDialog
{
    Q_OBJECT
public:
    explicit DrillDialog(const DrillPlan &plan, QWidget *parent = nullptr);

    const DrillPlan &plan() const { return m_plan; }
    QString commandsText() const; // what the read-only box shows
    QPushButton *confirmButton() const { return m_confirm; }

    static QString describe(const DrillPlan &plan);

private:
    DrillPlan m_plan;
    QPlainTextEdit *m_commands = nullptr;
    QPushButton *m_confirm = nullptr;
};

} // namespace netmap
