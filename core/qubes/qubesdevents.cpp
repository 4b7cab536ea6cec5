#include "qubesdevents.h"

#include "model/untrustedtext.h"

#include <QFileInfo>
#include <QLocalSocket>
#include <QTimer>

#include <sys/socket.h>

namespace netmap {

namespace {
constexpr qsizetype kMaxField = 64 << 10;
constexpr int kMaxArguments = 256;
constexpr qsizetype kMaxBuffered = 1 << 20;
} // namespace

QString QubesdEvent::argument(QStringView key) const
{
    for (const auto &kv : arguments)
        if (kv.first == key)
            return kv.second;
    return {};
}

bool QubesdEvent::affectsMap() const
{
    static const char *const kProperties[] = {"netvm",    "provides_network", "ip",   "label",
                                              "template", "default_dispvm",   "name", "tags"};
    if (name == QLatin1String("domain-add") || name == QLatin1String("domain-delete")
        || name == QLatin1String("domain-start") || name == QLatin1String("domain-shutdown")
        || name == QLatin1String("domain-paused") || name == QLatin1String("domain-unpaused")
        || name.startsWith(QLatin1String("domain-tag-")))
        return true;
    for (const char *prefix : {"property-set:", "property-reset:", "property-del:"}) {
        if (!name.startsWith(QLatin1String(prefix)))
            continue;
        const QStringView property = QStringView(name).mid(qsizetype(qstrlen(prefix)));
        for (const char *p : kProperties)
            if (property == QLatin1String(p))
                return true;
        if (subject.isEmpty()
            && (property == QLatin1String("default_netvm")
                || property == QLatin1String("default_dispvm")
                || property == QLatin1String("updatevm") || property == QLatin1String("clockvm")))
            return true;
    }
    return false;
}

bool QubesdEventParser::fail(const char *why)
{
    m_error = QString::fromLatin1(why);
    m_buffer.clear();
    return false;
}

bool QubesdEventParser::feed(const QByteArray &untrustedBytes, std::vector<QubesdEvent> *events)
{
    if (!m_error.isEmpty())
        return false;
    m_buffer += untrustedBytes;
    if (m_buffer.size() > kMaxBuffered)
        return fail("an event is larger than 1 MiB");
    qsizetype pos = 0;
    for (;;) {
        // Split one complete event off the front, or wait for more bytes.
        QList<QByteArray> fields;
        qsizetype p = pos;
        bool complete = false;
        while (p < m_buffer.size()) {
            const qsizetype end = m_buffer.indexOf('\0', p);
            if (end < 0) {
                if (m_buffer.size() - p > kMaxField)
                    return fail("an event field is longer than 64 KiB");
                break;
            }
            if (end - p > kMaxField)
                return fail("an event field is longer than 64 KiB");
            fields << m_buffer.mid(p, end - p);
            p = end + 1;
            // header, subject, event, then key/value pairs ending with an empty key
            if (fields.size() >= 4 && (fields.size() - 4) % 2 == 0 && fields.back().isEmpty()) {
                complete = true;
                break;
            }
            if (fields.size() == 1 && fields.front() != "1")
                return fail("not an event on the event stream");
            if (fields.size() > 3 + 2 * kMaxArguments + 1)
                return fail("an event has too many arguments");
        }
        if (!complete)
            break;
        QubesdEvent event;
        auto text = [](const QByteArray &b, QString *out) {
            *out = QString::fromUtf8(b);
            return !untrustedtext::hasHidden(*out);
        };
        if (!text(fields[1], &event.subject) || !text(fields[2], &event.name)
            || event.name.isEmpty())
            return fail("an event holds control characters or bad UTF-8");
        for (qsizetype i = 3; i + 1 < fields.size(); i += 2) {
            QString key, value;
            if (!text(fields[i], &key) || !text(fields[i + 1], &value))
                return fail("an event holds control characters or bad UTF-8");
            event.arguments.append({key, value});
        }
        events->push_back(std::move(event));
        pos = p;
    }
    m_buffer.remove(0, pos);
    return true;
}

QByteArray qubesdEventsRequest()
{
    // qubesadmin/events: method+arg, source, destination type and name, one NUL, no payload.
    return QByteArray("admin.Events+ dom0 name dom0\0", 29);
}

QString qubesdSocketPath()
{
    const QString fromEnvironment = qEnvironmentVariable("NETMAP_QUBESD_SOCKET");
    return fromEnvironment.isEmpty() ? QStringLiteral("/var/run/qubesd.sock") : fromEnvironment;
}

namespace {
const QString kQrexecClientVm = QStringLiteral("qrexec-client-vm");
constexpr qint64 kMaxStreamBytes = qint64(1) << 40; // a stream runs for days; each event is capped
} // namespace

QubesdEventStream::QubesdEventStream(const QString &socketPath, QObject *parent)
    : QObject(parent)
    , m_path(socketPath)
    , m_reconnect(new QTimer(this))
    , m_debounce(new QTimer(this))
{
    m_reconnect->setSingleShot(true);
    m_debounce->setSingleShot(true);
    m_debounce->setInterval(150);
    connect(m_debounce, &QTimer::timeout, this, &QubesdEventStream::mapChanged);
    connect(m_reconnect, &QTimer::timeout, this, [this] {
        if (m_running)
            start(m_reconnect->interval());
    });
}

QubesdEventStream::~QubesdEventStream()
{
    stop();
}

QString QubesdEventStream::transportDescription() const
{
    switch (m_transport) {
    case Transport::None:
        return {};
    case Transport::Socket:
        return QStringLiteral("qubesd socket %1").arg(m_path);
    case Transport::Qrexec:
        return QStringLiteral("qrexec-client-vm dom0 admin.Events");
    }
    return {};
}

void QubesdEventStream::closeTransport()
{
    m_listening = false;
    m_sawBytes = false;
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
        m_socket->deleteLater();
        m_socket = nullptr;
    }
    if (m_runner) {
        m_runner->disconnect(this);
        m_runner->deleteLater(); // stops qrexec-client-vm as a group
        m_runner = nullptr;
        m_process = 0;
    }
    m_transport = Transport::None;
}

void QubesdEventStream::start(int reconnectMs)
{
    m_running = true;
    m_reconnect->setInterval(reconnectMs);
    closeTransport();
    m_parser = QubesdEventParser();

    // As qubesadmin decides: the socket where it exists (dom0), else qrexec (a management qube).
    if (!QFileInfo::exists(m_path) && !CommandRunner::findProgram(kQrexecClientVm).isEmpty()) {
        m_transport = Transport::Qrexec;
        m_runner = new CommandRunner(this);
        connect(m_runner, &CommandRunner::chunkReady, this,
                [this](CommandRunner::Id id, const QByteArray &bytes) {
                    if (id == m_process)
                        consume(bytes);
                });
        connect(m_runner, &CommandRunner::finished, this,
                [this](CommandRunner::Id id, const CommandOutput &output) {
                    if (id != m_process)
                        return;
                    const QString detail = output.firstErrorLine();
                    ended(QStringLiteral("qrexec-client-vm dom0 admin.Events %1%2")
                              .arg(output.describe(),
                                   detail.isEmpty() ? QString() : QStringLiteral(": ") + detail));
                });
        CommandSpec spec;
        spec.program = kQrexecClientVm;
        spec.arguments = {QStringLiteral("dom0"), QStringLiteral("admin.Events")};
        spec.timeoutMs = -1;
        spec.streamChunks = true;
        spec.stdoutCap = kMaxStreamBytes;
        m_process = m_runner->start(spec);
        return;
    }

    m_transport = Transport::Socket;
    m_socket = new QLocalSocket(this);
    connect(m_socket, &QLocalSocket::connected, this, &QubesdEventStream::onConnected);
    connect(m_socket, &QLocalSocket::readyRead, this, &QubesdEventStream::onReadyRead);
    connect(m_socket, &QLocalSocket::disconnected, this, &QubesdEventStream::onDisconnected);
    connect(
        m_socket, &QLocalSocket::errorOccurred, this, [this](QLocalSocket::LocalSocketError error) {
            if (error == QLocalSocket::PeerClosedError)
                return; // the end of the stream: disconnected() follows
            if (m_socket->state() != QLocalSocket::ConnectedState)
                ended(QStringLiteral("qubesd socket %1: %2").arg(m_path, m_socket->errorString()));
        });
    m_socket->connectToServer(m_path, QIODevice::ReadWrite);
}

void QubesdEventStream::stop()
{
    m_running = false;
    m_reconnect->stop();
    m_debounce->stop();
    closeTransport();
}

void QubesdEventStream::onConnected()
{
    // qubesd reads the request to EOF before it parses it: write it, then shut down writing.
    // QLocalSocket has no half-close, so it is done on the descriptor.
    const QByteArray request = qubesdEventsRequest();
    if (m_socket->write(request) != request.size() || !m_socket->flush()) {
        ended(QStringLiteral("qubesd socket %1: the request could not be sent").arg(m_path));
        return;
    }
    while (m_socket->bytesToWrite() > 0 && m_socket->waitForBytesWritten(1000)) { }
    const auto fd = m_socket->socketDescriptor();
    if (m_socket->bytesToWrite() > 0 || fd < 0 || ::shutdown(int(fd), SHUT_WR) != 0) {
        ended(QStringLiteral("qubesd socket %1: the request could not be completed").arg(m_path));
        return;
    }
    // Not listening yet: that is connection-established's to say.
}

void QubesdEventStream::onReadyRead()
{
    if (m_socket)
        consume(m_socket->readAll());
}

void QubesdEventStream::consume(const QByteArray &untrustedBytes)
{
    if (untrustedBytes.isEmpty())
        return;
    if (!m_sawBytes && untrustedBytes.startsWith("2\0")) {
        ended(QStringLiteral("qubesd refused admin.Events"));
        return;
    }
    m_sawBytes = true;
    std::vector<QubesdEvent> events;
    const bool ok = m_parser.feed(untrustedBytes, &events);
    bool relevant = false;
    for (const QubesdEvent &e : events) {
        if (!m_listening) {
            // Nothing counts before qubesd confirms the stream.
            if (e.name == QLatin1String("connection-established") && e.subject.isEmpty()) {
                m_listening = true;
                emit listening();
            }
            continue;
        }
        emit eventReceived(e);
        relevant = relevant || e.affectsMap();
    }
    if (relevant)
        m_debounce->start();
    if (!ok)
        ended(QStringLiteral("qubesd event stream: %1").arg(m_parser.error()));
}

void QubesdEventStream::ended(const QString &reason)
{
    const bool wasStarted = m_running;
    closeTransport();
    emit unavailable(reason);
    if (wasStarted && m_running)
        m_reconnect->start();
}

void QubesdEventStream::onDisconnected()
{
    if (!m_running)
        return;
    if (m_socket && m_socket->bytesAvailable() > 0)
        consume(m_socket->readAll());
    if (!m_socket)
        return; // consume() ended it already
    ended(m_sawBytes ? QStringLiteral("qubesd closed the event stream")
                     : QStringLiteral("qubesd closed the connection without an answer "
                                      "(admin.Events not allowed?)"));
}

} // namespace netmap
