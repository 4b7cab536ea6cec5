#include "model/ipv4.h"
#include "model/qubename.h"

#include <QTest>

using namespace netmap;

class tst_QubeName : public QObject
{
    Q_OBJECT
private slots:
    void names_data();
    void names();
    void addresses_data();
    void addresses();
    void urls_data();
    void urls();
};

void tst_QubeName::names_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("valid");
    QTest::newRow("plain") << "work" << true;
    QTest::newRow("dom0") << "dom0" << true;
    QTest::newRow("dashes") << "sys-firewall" << true;
    QTest::newRow("underscore") << "my_qube" << true;
    QTest::newRow("dotted 4.3") << "work.web" << true;
    QTest::newRow("31 chars") << QString(31, QLatin1Char('a')) << true;
    QTest::newRow("32 chars") << QString(32, QLatin1Char('a')) << false;
    QTest::newRow("empty") << "" << false;
    QTest::newRow("digit first") << "1work" << false;
    QTest::newRow("dot first") << ".work" << false;
    QTest::newRow("dash first") << "-work" << false;
    QTest::newRow("space") << "my qube" << false;
    QTest::newRow("markup") << "<img src=x>" << false;
    QTest::newRow("shell") << "a;rm" << false;
    QTest::newRow("quote") << "a'b" << false;
    QTest::newRow("newline") << "a\nb" << false;
    QTest::newRow("unicode") << QString::fromUtf8("wörk") << false;
    QTest::newRow("none") << "none" << false;
    QTest::newRow("default") << "default" << false;
    QTest::newRow("Domain-0") << "Domain-0" << false;
    QTest::newRow("-dm suffix") << "work-dm" << false;
}

void tst_QubeName::names()
{
    QFETCH(QString, name);
    QFETCH(bool, valid);
    QString why;
    const auto parsed = QubeName::fromUntrusted(name, &why);
    QCOMPARE(parsed.has_value(), valid);
    if (valid)
        QCOMPARE(parsed->toString(), name);
    else
        QVERIFY(!why.isEmpty());
}

void tst_QubeName::addresses_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("ipv4");
    QTest::addColumn<bool>("ip");
    QTest::newRow("qube ip") << "10.137.0.15" << true << true;
    QTest::newRow("zero") << "0.0.0.0" << true << true;
    QTest::newRow("max") << "255.255.255.255" << true << true;
    QTest::newRow("256") << "10.137.0.256" << false << false;
    QTest::newRow("leading zero") << "10.137.0.015" << false << false;
    QTest::newRow("three parts") << "10.137.0" << false << false;
    QTest::newRow("five parts") << "10.137.0.1.2" << false << false;
    QTest::newRow("space") << "10.137.0.1 " << false << false;
    QTest::newRow("html") << "<b>1.2.3.4</b>" << false << false;
    QTest::newRow("ipv6") << "2001:db8::1" << false << true;
    QTest::newRow("bad ipv6") << "2001:db8:::1:x" << false << false;
    QTest::newRow("empty") << "" << false << false;
}

void tst_QubeName::addresses()
{
    QFETCH(QString, text);
    QFETCH(bool, ipv4);
    QFETCH(bool, ip);
    QCOMPARE(validIpv4(text).has_value(), ipv4);
    QCOMPARE(validIpAddress(text).has_value(), ip);
}

void tst_QubeName::urls_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<bool>("valid");
    QTest::newRow("https") << "https://api.ipify.org" << true;
    QTest::newRow("http ip") << "http://198.51.100.10/" << true;
    QTest::newRow("path") << "https://check.torproject.org/api/ip" << true;
    QTest::newRow("ftp") << "ftp://example.org" << false;
    QTest::newRow("quote") << "https://a.org/'$(x)'" << false;
    QTest::newRow("space") << "https://a.org/ x" << false;
    QTest::newRow("userinfo") << "https://u@a.org/" << false;
    QTest::newRow("backtick") << "https://a.org/`id`" << false;
    QTest::newRow("empty") << "" << false;
}

void tst_QubeName::urls()
{
    QFETCH(QString, url);
    QFETCH(bool, valid);
    QCOMPARE(validHttpUrl(url).has_value(), valid);
}

QTEST_GUILESS_MAIN(tst_QubeName)
#include "tst_qubename.moc"
