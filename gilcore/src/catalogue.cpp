#include "gilcore/catalogue.hpp"

#include <charconv>
#include <limits>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "convoy/duration.hpp"

namespace gilcore {
namespace detail {

std::string format_knob_limit(std::chrono::nanoseconds v) {
  return convoy::format_exact_duration(v);
}
std::string format_knob_limit(long long v) { return std::to_string(v); }

}  // namespace detail

namespace {

std::string json_key(std::string_view option, bool duration) {
  std::string key(option);
  for (char& c : key) {
    if (c == '-') c = '_';
  }
  return duration ? key + "_ns" : key;
}

std::optional<bool> parse_bool(std::string_view text) {
  for (const auto* yes : {"true", "1", "yes", "on"}) {
    if (text == yes) return true;
  }
  for (const auto* no : {"false", "0", "no", "off"}) {
    if (text == no) return false;
  }
  return std::nullopt;
}

template <class T>
std::optional<T> parse_integer(std::string_view text) {
  T v{};
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

// Parses text as a value of knob K's type; nullopt when it is not one (limits not checked).
// Durations take convoy's one syntax: a unit, except for a bare 0.
template <class K>
std::optional<typename K::value_type> parse_value(const K& knob, std::string_view text) {
  using T = typename K::value_type;
  if constexpr (std::is_same_v<T, bool>) {
    return parse_bool(text);
  } else if constexpr (std::is_same_v<T, std::chrono::nanoseconds>) {
    return convoy::parse_duration(text);
  } else if constexpr (std::is_enum_v<T>) {
    for (std::size_t i = 0; i < knob.choices.size(); ++i) {
      if (knob.choices[i] == text) return static_cast<T>(i);
    }
    return std::nullopt;
  } else {
    return parse_integer<T>(text);
  }
}

template <class K>
std::string format_value(const K& knob, const typename K::value_type& v) {
  using T = typename K::value_type;
  if constexpr (std::is_same_v<T, bool>) {
    return v ? "true" : "false";
  } else if constexpr (std::is_same_v<T, std::chrono::nanoseconds>) {
    return convoy::format_exact_duration(v);
  } else if constexpr (std::is_enum_v<T>) {
    return std::string(knob.choices[static_cast<std::size_t>(v)]);
  } else {
    return std::to_string(v);
  }
}

template <class T>
constexpr std::string_view type_name() {
  if constexpr (std::is_same_v<T, bool>) {
    return "boolean";
  } else if constexpr (std::is_same_v<T, std::chrono::nanoseconds>) {
    return "duration";
  } else if constexpr (std::is_enum_v<T>) {
    return "choice";
  } else {
    return "integer";
  }
}

template <class P, class K>
KnobDescription describe_knob(const K& knob) {
  using T = typename K::value_type;
  constexpr bool kDuration = std::is_same_v<T, std::chrono::nanoseconds>;
  constexpr bool kRanged = kDuration || (std::is_integral_v<T> && !std::is_same_v<T, bool>);
  KnobDescription d;
  d.policy = kind_of<P>();
  d.option = knob.option;
  d.help = knob.help;
  d.type = type_name<T>();
  d.json_key = json_key(knob.option, kDuration);
  d.default_text = format_value(knob, knob.default_value());
  if constexpr (kRanged) {
    d.min_text = format_value(knob, knob.limits.min);
    d.max_text = format_value(knob, knob.limits.max);
  }
  for (const auto name : knob.choices) d.choices.emplace_back(name);

  d.check = [knob, min = d.min_text, max = d.max_text,
             choices = d.choices](std::string_view text) -> std::optional<std::string> {
    const auto v = parse_value(knob, text);
    std::string shown(text.substr(0, 40));
    if (text.size() > 40) shown += "...";
    if (!v) {
      if constexpr (kDuration) return convoy::duration_error(text);
      if constexpr (std::is_same_v<T, bool>) return "not true or false: '" + shown + "'";
      if constexpr (std::is_enum_v<T>) {
        std::string names;
        for (const auto& c : choices) names += (names.empty() ? "" : ", ") + c;
        return "'" + shown + "' is not one of " + names;
      }
      return "not an integer: '" + shown + "'";
    }
    if constexpr (kRanged) {
      if (*v < knob.limits.min || *v > knob.limits.max) {
        return "must be in [" + min + ", " + max + "], got " + shown;
      }
    }
    return std::nullopt;
  };
  d.set = [knob](LockConfig& config, std::string_view text) {
    if (const auto v = parse_value(knob, text)) config.of<P>().*(knob.field) = *v;
  };
  d.text_of = [knob](const LockConfig& config) {
    return format_value(knob, config.of<P>().*(knob.field));
  };
  d.put_json = [knob, key = d.json_key](nlohmann::json& into, const LockConfig& config) {
    const T& v = config.of<P>().*(knob.field);
    if constexpr (kDuration) {
      into[key] = v.count();
    } else if constexpr (std::is_enum_v<T>) {
      into[key] = std::string(knob.choices[static_cast<std::size_t>(v)]);
    } else {
      into[key] = v;
    }
  };
  return d;
}

std::vector<PolicyDescription> build_catalogue() {
  std::vector<PolicyDescription> out;
  Policies::for_each([&](auto tag) {
    using P = typename decltype(tag)::type;
    static_assert(P::kCounters.size() <= kMaxOwnCounters, "too many counters of its own");
    PolicyDescription p;
    p.kind = kind_of<P>();
    p.info = P::kInfo;
    p.exclusive = P::kExclusive;
    for_each_knob_of<P>([&](const auto& knob) { p.knobs.push_back(describe_knob<P>(knob)); });
    p.counters = std::span<const CounterInfo>(P::kCounters.data(), P::kCounters.size());
    out.push_back(std::move(p));
  });
  return out;
}

}  // namespace

const std::vector<PolicyDescription>& catalogue() {
  static const std::vector<PolicyDescription> kCatalogue = build_catalogue();
  return kCatalogue;
}

const PolicyDescription& describe(PolicyKind kind) {
  return catalogue().at(static_cast<std::size_t>(kind));
}

std::string describe(const LockConfig& config) {
  const auto& p = describe(config.policy);
  std::string out(p.info.name);
  std::string knobs;
  for (const auto& k : p.knobs) {
    knobs += (knobs.empty() ? "" : ", ") + std::string(k.option) + " " + k.text_of(config);
  }
  return knobs.empty() ? out : out + " (" + knobs + ")";
}

nlohmann::json catalogue_json() {
  auto list = nlohmann::json::array();
  for (const auto& p : catalogue()) {
    auto knobs = nlohmann::json::array();
    for (const auto& k : p.knobs) {
      nlohmann::json j = {{"option", k.option},
                          {"type", k.type},
                          {"default", k.default_text},
                          {"help", k.help},
                          {"json_key", k.json_key}};
      if (!k.min_text.empty()) j["min"] = k.min_text;
      if (!k.max_text.empty()) j["max"] = k.max_text;
      if (!k.choices.empty()) j["choices"] = k.choices;
      knobs.push_back(std::move(j));
    }
    auto counters = nlohmann::json::array();
    for (const auto& c : p.counters) counters.push_back({{"name", c.name}, {"help", c.help}});
    list.push_back({{"name", p.info.name},
                    {"summary", p.info.summary},
                    {"emulates", p.info.emulates},
                    {"exclusive", p.exclusive},
                    {"knobs", std::move(knobs)},
                    {"counters", std::move(counters)}});
  }
  return list;
}

}  // namespace gilcore
