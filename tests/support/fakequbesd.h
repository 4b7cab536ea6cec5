#pragma once
// Test helper: the server side of qubesd's Admin API socket as qubes-core-admin implements it
// (qubes/api/__init__.py): it reads the request to EOF, splits "METHOD+ARG SP src SP type SP
// dest \0 payload" and aborts the connection with no reply on a framing error. admin.Events
// answers with connection-established and then whatever the test sends; every other call gets
// "2\0QubesException\0\0not implemented in the fake\0".

#include "qubesdframe.h"

#include <QByteArray>
#include <QList>
#include <QSocketNotifier>
#include <QString>

#include <memory>
#include <vector>

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace netmap::test {

class FakeQubesd
{
public:
    struct Request
    {
        QByteArray raw; // everything read up to EOF
        bool framed = false; // split the way qubesd splits it
        QByteArray method, argument, source, destType, dest;
    };

    ~FakeQubesd() { close(); }

    bool listen(const QString &path)
    {
        m_listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        sockaddr_un address {};
        address.sun_family = AF_UNIX;
        const QByteArray p = path.toLocal8Bit();
        if (m_listener < 0 || p.size() >= qsizetype(sizeof address.sun_path))
            return false;
        std::memcpy(address.sun_path, p.constData(), size_t(p.size()));
        ::unlink(p.constData());
        if (::bind(m_listener, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0
            || ::listen(m_listener, 8) != 0)
            return false;
        m_path = p;
        m_acceptNotifier = std::make_unique<QSocketNotifier>(m_listener, QSocketNotifier::Read);
        QObject::connect(m_acceptNotifier.get(), &QSocketNotifier::activated,
                         m_acceptNotifier.get(), [this] { accept(); });
        return true;
    }

    // Closes every connection and the socket file (qubesd stopped).
    void close()
    {
        m_acceptNotifier.reset();
        for (auto &c : m_connections)
            dropConnection(*c);
        m_connections.clear();
        if (m_listener >= 0)
            ::close(m_listener);
        m_listener = -1;
        if (!m_path.isEmpty())
            ::unlink(m_path.constData());
        m_path.clear();
    }

    // Ends the event streams (qubesd closing them) but keeps listening.
    void endStreams()
    {
        for (auto &c : m_connections)
            if (c->events)
                dropConnection(*c);
    }

    void sendEvent(const QByteArray &frame)
    {
        for (auto &c : m_connections)
            if (c->events && c->fd >= 0 && !writeAll(c->fd, frame))
                dropConnection(*c);
    }
    void sendEvent(const QByteArray &subject, const QByteArray &name,
                   const QList<QPair<QByteArray, QByteArray>> &args = {})
    {
        sendEvent(qubesdEventFrame(subject, name, args));
    }

    const QList<Request> &requests() const { return m_requests; }
    int accepted() const { return m_accepted; }
    int openStreams() const
    {
        int n = 0;
        for (const auto &c : m_connections)
            n += c->events && c->fd >= 0;
        return n;
    }
    // When false, admin.Events gets no connection-established (a qubesd that is still starting).
    void setConfirmStreams(bool confirm) { m_confirm = confirm; }

private:
    struct Connection
    {
        int fd = -1;
        QByteArray buffer;
        bool events = false;
        std::unique_ptr<QSocketNotifier> notifier;
    };

    static bool writeAll(int fd, const QByteArray &bytes)
    {
        qsizetype done = 0;
        while (done < bytes.size()) {
            const ssize_t n
                = ::send(fd, bytes.constData() + done, size_t(bytes.size() - done), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return false;
            done += n;
        }
        return true;
    }

    void dropConnection(Connection &c)
    {
        c.notifier.reset();
        if (c.fd >= 0)
            ::close(c.fd);
        c.fd = -1;
        c.events = false;
    }

    void accept()
    {
        const int fd = ::accept4(m_listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0)
            return;
        ++m_accepted;
        auto c = std::make_unique<Connection>();
        c->fd = fd;
        c->notifier = std::make_unique<QSocketNotifier>(fd, QSocketNotifier::Read);
        Connection *raw = c.get();
        QObject::connect(c->notifier.get(), &QSocketNotifier::activated, c->notifier.get(),
                         [this, raw] { readable(*raw); });
        m_connections.push_back(std::move(c));
    }

    void readable(Connection &c)
    {
        char buffer[4096];
        const ssize_t n = ::read(c.fd, buffer, sizeof buffer);
        if (n > 0) {
            c.buffer.append(buffer, n);
            return;
        }
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            return;
        c.notifier->setEnabled(false); // EOF: qubesd parses only now
        handle(c);
    }

    void handle(Connection &c)
    {
        Request r;
        r.raw = c.buffer;
        const qsizetype nul = c.buffer.indexOf('\0');
        const QList<QByteArray> parts = c.buffer.left(nul).split(' ');
        if (nul >= 0 && parts.size() == 4 && parts[0].contains('+')) {
            r.framed = true;
            const qsizetype plus = parts[0].indexOf('+');
            r.method = parts[0].left(plus);
            r.argument = parts[0].mid(plus + 1);
            r.source = parts[1];
            r.destType = parts[2];
            r.dest = parts[3];
        }
        m_requests.append(r);
        if (!r.framed) {
            dropConnection(c); // framing error: abort, no reply
            return;
        }
        if (r.method == "admin.Events") {
            c.events = true; // the client has shut down writing: a failed write ends it
            if (m_confirm)
                writeAll(c.fd, qubesdEventFrame("", "connection-established"));
            return;
        }
        writeAll(c.fd, QByteArray("2\0QubesException\0\0not implemented in the fake\0", 46));
        dropConnection(c);
    }

    int m_listener = -1;
    QByteArray m_path;
    std::unique_ptr<QSocketNotifier> m_acceptNotifier;
    std::vector<std::unique_ptr<Connection>> m_connections;
    QList<Request> m_requests;
    int m_accepted = 0;
    bool m_confirm = true;
};

} // namespace netmap::test
