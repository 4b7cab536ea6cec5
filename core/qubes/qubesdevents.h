#pragma once
// Following qubesd's Admin API event stream (admin.Events over the qubesd socket in dom0, or
// from qrexec-client-vm in a management qube), with a strict, bounded parser for its framing.

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPair>
#include <QString>

#include <vector>

#include "commandrunner.h"

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

// The request qubesadmin sends for the event stream: "admin.Events+ dom0 name dom0\0" (method+arg,
// source, destination type and name; the payload is empty), after which it shuts down writing.
QByteArray qubesdEventsRequest();

// The socket path: NETMAP_QUBESD_SOCKET when set, else /var/run/qubesd.sock.
QString qubesdSocketPath();

class QubesdEventStream : public QObject
{
    Q_OBJECT
public:
    enum class Transport { None, Socket, Qrexec };

    static QString defaultSocketPath() { return qubesdSocketPath(); }
    explicit QubesdEventStream(const QString &socketPath = defaultSocketPath(),
                               QObject *parent = nullptr);
    ~QubesdEventStream() override;

    // Connects and asks for admin.Events; reconnects after a drop every reconnectMs. Where the
    // socket does not exist and qrexec-client-vm is on PATH (a management qube), the stream is
    // read from "qrexec-client-vm dom0 admin.Events" instead, as qubesadmin does.
    void start(int reconnectMs = 5000);
    void stop();
    // True once qubesd sent connection-established on the current connection, until it ends.
    bool isListening() const { return m_listening; }
    Transport transport() const { return m_transport; }
    // "qubesd socket /var/run/qubesd.sock", "qrexec-client-vm dom0 admin.Events", or empty.
    QString transportDescription() const;

signals:
    // qubesd confirmed the stream (connection-established): from now on events arrive.
    void listening();
    void eventReceived(const netmap::QubesdEvent &event);
    // Something on the map may have changed (events that affect it, debounced 150 ms: one qvm-prefs
    // call fires several).
    void mapChanged();
    void unavailable(const QString &reason);

private:
    void onConnected();
    void onReadyRead();
    void onDisconnected();
    void consume(const QByteArray &untrustedBytes);
    void ended(const QString &reason);
    void closeTransport();
    QString m_path;
    Transport m_transport = Transport::None;
    QLocalSocket *m_socket = nullptr;
    CommandRunner *m_runner = nullptr;
    CommandRunner::Id m_process = 0;
    bool m_listening = false;
    bool m_sawBytes = false;
    QTimer *m_reconnect = nullptr;
    QTimer *m_debounce = nullptr;
    QubesdEventParser m_parser;
    bool m_running = false;
};

} // namespace netmap
