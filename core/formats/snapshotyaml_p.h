#pragma once
// What the snapshot's reader and writer share (formats/snapshotyaml.h): the schema prefix, and
// the reader of one field at a time, which keeps the position of the first failure.
// yaml-cpp stays inside .cpp files: include this from .cpp files only.

#include "model/qubename.h"
#include "model/result.h"

#include <QDateTime>
#include <QLatin1StringView>
#include <QString>
#include <QStringList>

#include <initializer_list>
#include <optional>

#include <yaml-cpp/yaml.h>

namespace netmap::snapshotyaml {

inline constexpr QLatin1StringView kSchemaPrefix("qubes-netmap-snapshot/");

// Messages may quote a piece of the file (an unknown key, yaml-cpp's "unknown escape character:
// \x1b"): one line of plain text so a hostile file cannot put control sequences into it.
QString plainMessage(const QString &message);

// Reading: every failure carries the position of the offending node.
struct FieldReader
{
    QString file;
    std::optional<Error> error; // the first failure

    bool fail(const YAML::Node &node, const QString &message);

    // Unknown keys are refused with the shared reader's rule and message (repeated keys never
    // get here: strictyaml::loadDocument() refuses them).
    bool checkKeys(const YAML::Node &map, std::initializer_list<const char *> allowed);

    bool map(const YAML::Node &node, const char *what);

    bool seq(const YAML::Node &node, const char *what);

    // A scalar string; missing or null gives an empty string when optional.
    bool string(const YAML::Node &parent, const char *key, QString *out, bool required = false);

    bool token(const YAML::Node &parent, const char *key, QString *out, bool required);

    bool name(const YAML::Node &parent, const char *key, std::optional<QubeName> *out,
              bool required = false);

    bool ip(const YAML::Node &parent, const char *key, QString *out);

    bool ip6(const YAML::Node &parent, const char *key, QString *out);

    // An address field: empty means none; otherwise VALID's normal form, or refused as not WHAT.
    // Defined beside ip() and ip6(), its only callers.
    template <typename Validator>
    bool address(const YAML::Node &parent, const char *key, QString *out, Validator valid,
                 const char *what);

    // Absent or null: not known (nullopt).
    bool optionalBoolean(const YAML::Node &parent, const char *key, std::optional<bool> *out);

    bool boolean(const YAML::Node &parent, const char *key, bool *out);

    bool integer(const YAML::Node &parent, const char *key, int *out, int fallback);

    bool date(const YAML::Node &parent, const char *key, QDateTime *out);

    bool stringList(const YAML::Node &parent, const char *key, QStringList *out);
};

} // namespace netmap::snapshotyaml
