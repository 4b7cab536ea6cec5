#pragma once
// Error values that cross layers: a code, one clear message, and a file position when there is one.

#include <QString>

#include <optional>
#include <utility>
#include <variant>

namespace netmap {

struct Error
{
    enum class Code {
        Usage = 2, // bad usage or bad input file (exit code 2)
        Input = 2,
        Source = 3, // the live source could not be read (exit code 3)
        Io = 4, // a file could not be written or read
        Check = 1, // a check could not be completed
    };
    Code code = Code::Input;
    QString message;
    QString file;
    int line = 0; // 1-based, 0 when unknown
    int column = 0; // 1-based, 0 when unknown

    // "file:line:column: message", with the parts that are known.
    QString toString() const;
    int exitCode() const { return code == Code::Io ? 2 : static_cast<int>(code); }
};

template <typename T>
class [[nodiscard]] Result
{
public:
    Result(T value)
        : m_data(std::move(value))
    {
    }
    Result(Error error)
        : m_data(std::move(error))
    {
    }

    bool ok() const { return std::holds_alternative<T>(m_data); }
    explicit operator bool() const { return ok(); }
    const T &value() const & { return std::get<T>(m_data); }
    T &value() & { return std::get<T>(m_data); }
    T &&value() && { return std::get<T>(std::move(m_data)); }
    const T &operator*() const & { return value(); }
    const T *operator->() const { return &value(); }
    const Error &error() const { return std::get<Error>(m_data); }

private:
    std::variant<T, Error> m_data;
};

struct Ok
{
};

using Status = Result<Ok>;

inline Error makeError(Error::Code code, QString message, QString file = {}, int line = 0,
                       int column = 0)
{
    return Error {code, std::move(message), std::move(file), line, column};
}

} // namespace netmap
