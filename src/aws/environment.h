// Environment: where the AWS settings (keys, profile, region, endpoints) are read from. The
// logic takes this interface, never calls getenv itself, so tests pass a map.
// ProcessEnvironment reads the process environment (thread-safe as long as nothing calls
// setenv concurrently); MapEnvironment is a value.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace budgeteer::aws {

class Environment {
 public:
  virtual ~Environment() = default;
  // The variable's value, or nullopt when it is unset. An empty value counts as unset, as the
  // AWS SDKs treat it.
  virtual std::optional<std::string> Get(std::string_view name) const = 0;
};

class ProcessEnvironment final : public Environment {
 public:
  std::optional<std::string> Get(std::string_view name) const override;
};

class MapEnvironment final : public Environment {
 public:
  MapEnvironment() = default;
  explicit MapEnvironment(std::map<std::string, std::string, std::less<>> vars)
      : vars_(std::move(vars)) {}
  void Set(std::string name, std::string value) { vars_[std::move(name)] = std::move(value); }
  std::optional<std::string> Get(std::string_view name) const override;

 private:
  std::map<std::string, std::string, std::less<>> vars_;
};

}  // namespace budgeteer::aws
