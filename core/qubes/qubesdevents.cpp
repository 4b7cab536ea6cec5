#include "qubesdevents.h"

#include "model/untrustedtext.h"

#include <QLocalSocket>
#include <QTimer>

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
    static const char *const kProperties[] = { "netvm", "provides_network", "ip", "label", "template",
                                               "default_dispvm", "name", "tags" };
    if (name == QLatin1String("domain-add") || name == QLatin1String("domain-delete")
        || name == QLatin1String("domain-start") || name == QLatin1String("domain-shutdown")
        || name == QLatin1String("domain-paused") || name == QLatin1String("domain-unpaused")
        || name.startsWith(QLatin1String("domain-tag-")))
        return true;
    for (const char *prefix : { "property-set:", "property-reset:", "property-del:" }) {
        if (!name.startsWith(QLatin1String(prefix)))
            continue;
        const QStringView property = QStringView(name).mid(qsizetype(qstrlen(prefix)));
        for (const char *p : kProperties)
            if (property == QLatin1String(p))
                return true;
        if (subject.isEmpty() && (property == QLatin1String("default_netvm")
                                  || property == QLatin1String("default_dispvm")
                                  || property == QLatin1String("updatevm")
                                  || property == QLatin1String("clockvm")))
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
        if (!text(fields[1], &event.subject) || !text(fields[2], &event.name) || event.name.isEmpty())
            return fail("an event holds control characters or bad UTF-8");
        for (qsizetype i = 3; i + 1 < fields.size(); i += 2) {
            QString key, value;
            if (!text(fields[i], &key) || !text(fields[i + 1], &value))
                return fail("an event holds control characters or bad UTF-8");
            event.arguments.append({ key, value });
        }
        events->push_back(std::move(event));
        pos = p;
    }
    m_buffer.remove(0, pos);
    return true;
}

QString QubesdEventStream::defaultSocketPath()
{
    return QStringLiteral("/var/run/qubesd.sock");
}

QubesdEventStream::QubesdEventStream(const QString &socketPath, QObject *parent)
    : QObject(parent), m_path(socketPath), m_reconnect(new QTimer(this)), m_debounce(new QTimer(this))
{
    m_reconnect->setSingleShot(true);
    m_debounce->setSingleShot(true);
    m_debounce->setInterval(300);
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

void QubesdEventStream::start(int reconnectMs)
{
    m_running = true;
    m_reconnect->setInterval(reconnectMs);
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
        m_socket->deleteLater();
    }
    m_parser = QubesdEventParser();
    m_socket = new QLocalSocket(this);
    connect(m_socket, &QLocalSocket::connected, this, &QubesdEventStream::onConnected);
    connect(m_socket, &QLocalSocket::readyRead, this, &QubesdEventStream::onReadyRead);
    connect(m_socket, &QLocalSocket::disconnected, this, &QubesdEventStream::onDisconnected);
    connect(m_socket, &QLocalSocket::errorOccurred, this, [this](QLocalSocket::LocalSocketError) {
        if (m_socket->state() != QLocalSocket::ConnectedState) {
            emit unavailable(QStringLiteral("qubesd socket %1: %2").arg(m_path, m_socket->errorString()));
            if (m_running)
                m_reconnect->start();
        }
    });
    m_socket->connectToServer(m_path, QIODevice::ReadWrite);
}

void QubesdEventStream::stop()
{
    m_running = false;
    m_reconnect->stop();
    m_debounce->stop();
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
        m_socket->deleteLater();
        m_socket = nullptr;
    }
}

bool QubesdEventStream::isListening() const
{
    return m_socket && m_socket->state() == QLocalSocket::ConnectedState;
}

void QubesdEventStream::onConnected()
{
    // Request framing of qubesadmin: source, method, destination, argument, each NUL-terminated,
    // then end of writing. The reply is the event stream until qubesd closes it.
    m_socket->write(QByteArray("dom0\0admin.Events\0dom0\0\0", 24));
    m_socket->flush();
    emit listening();
}

void QubesdEventStream::onReadyRead()
{
    std::vector<QubesdEvent> events;
    const bool ok = m_parser.feed(m_socket->readAll(), &events);
    bool relevant = false;
    for (const QubesdEvent &e : events) {
        emit eventReceived(e);
        relevant = relevant || e.affectsMap();
    }
    if (relevant)
        m_debounce->start();
    if (!ok) {
        emit unavailable(QStringLiteral("qubesd event stream: %1").arg(m_parser.error()));
        m_socket->disconnect(this);
        m_socket->abort();
        if (m_running)
            m_reconnect->start();
    }
}

void QubesdEventStream::onDisconnected()
{
    if (!m_running)
        return;
    emit unavailable(QStringLiteral("qubesd closed the event stream"));
    m_reconnect->start();
}

} // namespace netmap
