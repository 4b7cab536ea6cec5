#pragma once
// QubeName: a validated Qubes qube name. The only way a name enters the model.

#include <QHash>
#include <QString>

#include <optional>

namespace netmap {

class QubeName
{
public:
    QubeName() = default;

    // Qubes 4.3 rules (4.2 plus '.' after the first character): ^[a-zA-Z][a-zA-Z0-9_.-]{0,30}$,
    // not "none", "default" or "Domain-0", not ending in "-dm". Says why in *why on refusal.
    static std::optional<QubeName> fromUntrusted(QStringView untrustedName, QString *why = nullptr);

    const QString &toString() const { return m_name; }
    bool isNull() const { return m_name.isEmpty(); }
    bool isDom0() const { return m_name == QLatin1String("dom0"); }
    // A name that qvm-run may target: valid and not dom0.
    bool isRunnable() const { return !isNull() && !isDom0(); }

    friend bool operator==(const QubeName &a, const QubeName &b) { return a.m_name == b.m_name; }
    friend bool operator<(const QubeName &a, const QubeName &b) { return a.m_name < b.m_name; }

private:
    explicit QubeName(QString name)
        : m_name(std::move(name))
    {
    }
    QString m_name;
};

inline size_t qHash(const QubeName &name, size_t seed = 0)
{
    return qHash(name.toString(), seed);
}

} // namespace netmap
