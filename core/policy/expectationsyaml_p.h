#pragma once
// The expectations read from a YAML mapping already loaded by the strict reader
// (yaml/strictyaml_p.h): the expectations file, and the intent a snapshot saves
// (formats/snapshotyaml). yaml-cpp stays inside .cpp files: include this from .cpp files only.

#include "model/intent.h"

#include <QSet>
#include <QString>

#include <yaml-cpp/yaml.h>

namespace netmap {

// qubes, tags and allow as the expectations file writes them; `moreKeys` are further keys the
// caller reads itself. Throws strictyaml::YamlError with the position. sourceFile stays empty.
Expectations expectationsFromNode(const YAML::Node &node, const QString &where,
                                  const QSet<QString> &moreKeys = {});

} // namespace netmap
