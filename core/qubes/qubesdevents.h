#pragma once
// Following qubesd's Admin API event stream (admin.Events over the qubesd socket in dom0), with
// a strict, bounded parser for its framing.

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPair>
#include <QString>

#include <vector>

class QLocalSocket;
class QTimer;

namespace netmap {

struct QubesdEvent
{
    QString subject; // qube name, or empty for events about the system
    QString name; // "property-set:netvm", "domain-add", ...
    QList<QPair<QString, QString>> arguments;

    QString argument(QStringView key) const;
    // Events after which the map may differ: netvm and network properties, qubes coming, going,
    // starting and stopping.
    bool affectsMap() const;
};

// Framing: "1\0" subject "\0" event "\0" (key "\0" value "\0")* "\0", repeated. Anything else is
// a protocol error and ends the stream. Caps: a field 64 KiB, 256 arguments, 1 MiB buffered.
class QubesdEventParser
{
public:
    // Appends the complete events in `untrustedBytes` to *events; false on a protocol error.
    bool feed(const QByteArray &untrustedBytes, std::vector<QubesdEvent> *events);
    const QString &error() const { return m_error; }

private:
    bool fail(const char *why);
    QByteArray m_buffer;
    QString m_error;
};

class QubesdEventStream : public QObject
{
    Q_OBJECT
public:
    static QString defaultSocketPath(); // /var/run/qubesd.sock
    explicit QubesdEventStream(const QString &socketPath = defaultSocketPath(), QObject *parent = nullptr);
    ~QubesdEventStream() override;

    // Connects and asks for admin.Events; reconnects after a drop every reconnectMs.
    void start(int reconnectMs = 5000);
    void stop();
    bool isListening() const;

signals:
    void listening();
    void eventReceived(const netmap::QubesdEvent &event);
    // Something on the map may have changed (events that affect it, debounced 300 ms).
    void mapChanged();
    void unavailable(const QString &reason);

private:
    void onConnected();
    void onReadyRead();
    void onDisconnected();
    QString m_path;
    QLocalSocket *m_socket = nullptr;
    QTimer *m_reconnect = nullptr;
    QTimer *m_debounce = nullptr;
    QubesdEventParser m_parser;
    bool m_running = false;
};

} // namespace netmap
