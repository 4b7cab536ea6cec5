#include "drilldialog.h"

#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace netmap {

QString DrillDialog::describe(const DrillPlan &plan)
{
    static const char *const kWhat[] = {
        "Break the tunnel (as root in %1)",
        "Test the egress of %1 while the tunnel is down",
        "Restore the tunnel (as root in %1)",
    };
    QStringList lines;
    lines << QStringLiteral("Steps:");
    for (int i = 0; i < plan.steps.size(); ++i)
        lines << QStringLiteral("  %1. %2").arg(i + 1).arg(plan.steps[i]);
    lines << QString()
          << QStringLiteral(
                 "Exactly these commands run from dom0, one after the other: the program "
                 "and its arguments, the last argument being the script that runs in "
                 "the qube, shown in full below each command line.");
    for (int i = 0; i < plan.commands.size(); ++i) {
        const CommandSpec &c = plan.commands[i];
        const QString qube = i == 1 ? plan.downstreamQube : plan.vpnQube;
        lines << QString()
              << QStringLiteral("=== Command %1 of %2: %3 ===")
                     .arg(i + 1)
                     .arg(plan.commands.size())
                     .arg(QString::fromLatin1(kWhat[std::min(i, 2)]).arg(qube));
        CommandSpec head = c;
        const QString script = head.arguments.isEmpty() ? QString() : head.arguments.takeLast();
        lines << head.display() + QStringLiteral(" SCRIPT");
        lines << QStringLiteral("--- SCRIPT, the last argument, exactly ---");
        lines << script;
        lines << QStringLiteral("--- end of SCRIPT ---");
    }
    return lines.join(QLatin1Char('\n'));
}

DrillDialog::DrillDialog(const DrillPlan &plan, QWidget *parent)
    : QDialog(parent)
    , m_plan(plan)
{
    setObjectName(QStringLiteral("drillDialog"));
    setWindowTitle(tr("Kill-switch drill on %1").arg(plan.vpnQube));
    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(
        tr("The drill takes the tunnel %1 in %2 down without a clean shutdown, checks whether "
           "%3 can still reach the Internet, then brings the tunnel back.\n\n"
           "It restores itself even if this program dies: before the tunnel goes down, a "
           "detached restore is scheduled inside %2 that brings %1 back up after %4 seconds "
           "whatever happens in dom0.\n\n"
           "Nothing runs until you press \"Run the drill\".")
            .arg(plan.interfaceName, plan.vpnQube, plan.downstreamQube)
            .arg(plan.restoreAfterSeconds),
        this);
    intro->setObjectName(QStringLiteral("drillIntro"));
    intro->setTextFormat(Qt::PlainText);
    intro->setWordWrap(true);
    layout->addWidget(intro);

    m_commands = new QPlainTextEdit(this); // plain text: the scripts are shown, never rendered
    m_commands->setObjectName(QStringLiteral("drillCommands"));
    m_commands->setReadOnly(true);
    m_commands->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_commands->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_commands->setPlainText(describe(plan));
    layout->addWidget(m_commands, 1);

    auto *buttons = new QDialogButtonBox(this);
    m_confirm = buttons->addButton(tr("Run the drill"), QDialogButtonBox::AcceptRole);
    m_confirm->setObjectName(QStringLiteral("confirmButton"));
    m_confirm->setAutoDefault(false);
    QPushButton *cancel = buttons->addButton(QDialogButtonBox::Cancel);
    cancel->setObjectName(QStringLiteral("cancelButton"));
    cancel->setDefault(true); // Enter does not start the drill
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    resize(900, 640);
}

QString DrillDialog::commandsText() const
{
    return m_commands->toPlainText();
}

} // namespace netmap
