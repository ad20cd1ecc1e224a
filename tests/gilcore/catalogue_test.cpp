// The list of policies and what is derived from it: names, knobs, JSON.
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "gilcore/catalogue.hpp"
#include "policy_support.hpp"

namespace gilcore {
namespace {

TEST(CatalogueTest, ListsEveryPolicyOnceInListOrder) {
  const auto& list = catalogue();
  ASSERT_EQ(list.size(), Policies::kCount);
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < list.size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(list[i].kind), i);
    EXPECT_TRUE(names.insert(list[i].info.name).second) << "twice: " << list[i].info.name;
    EXPECT_FALSE(list[i].info.summary.empty()) << list[i].info.name;
    EXPECT_FALSE(list[i].info.emulates.empty()) << list[i].info.name;
    EXPECT_EQ(list[i].info.name.find_first_of(" \t,"), std::string_view::npos);
    EXPECT_EQ(parse_policy(list[i].info.name), list[i].kind);
    EXPECT_EQ(to_string(list[i].kind), list[i].info.name);
  }
  EXPECT_NE(policy_names().find(std::string(list.back().info.name)), std::string::npos);
}

TEST(CatalogueTest, EveryDefaultPassesItsOwnCheckAndRoundTripsAsText) {
  const LockConfig defaults;
  for (const auto& policy : catalogue()) {
    for (const auto& knob : policy.knobs) {
      EXPECT_EQ(knob.check(knob.default_text), std::nullopt) << knob.option;
      EXPECT_EQ(knob.text_of(defaults), knob.default_text) << knob.option;
      if (!knob.min_text.empty()) {
        EXPECT_EQ(knob.check(knob.min_text), std::nullopt) << knob.option;
        EXPECT_EQ(knob.check(knob.max_text), std::nullopt) << knob.option;
        LockConfig c;
        knob.set(c, knob.max_text);
        EXPECT_EQ(knob.text_of(c), knob.max_text) << knob.option;
        EXPECT_NO_THROW(c.validate()) << knob.option;
      }
      EXPECT_NE(knob.check("not a value"), std::nullopt) << knob.option;
    }
  }
}

TEST(CatalogueTest, PoliciesSharingAKnobNameAgreeOnItsTypeAndDefault) {
  std::map<std::string_view, const KnobDescription*> seen;
  for (const auto& policy : catalogue()) {
    for (const auto& knob : policy.knobs) {
      const auto [it, fresh] = seen.emplace(knob.option, &knob);
      if (fresh) continue;
      EXPECT_EQ(it->second->type, knob.type) << knob.option;
      EXPECT_EQ(it->second->default_text, knob.default_text) << knob.option;
      EXPECT_EQ(it->second->min_text, knob.min_text) << knob.option;
      EXPECT_EQ(it->second->max_text, knob.max_text) << knob.option;
    }
  }
}

TEST(CatalogueTest, LockJsonHoldsThePolicyAndOnlyItsKnobs) {
  for (const auto kind : testing::every_policy_kind()) {
    LockConfig c;
    c.policy = kind;
    const nlohmann::json j = c;
    const auto& policy = describe(kind);
    EXPECT_EQ(j["policy"], policy.info.name);
    EXPECT_EQ(j.size(), policy.knobs.size() + 1) << j.dump();
    for (const auto& knob : policy.knobs) EXPECT_TRUE(j.contains(knob.json_key)) << knob.json_key;
  }
  const nlohmann::json py3 = LockConfig::for_policy<Py3Gil>();
  EXPECT_EQ(py3["switch_interval_ns"], 5'000'000);
  EXPECT_EQ(py3["force_switching"], true);
}

TEST(CatalogueTest, DescribeNamesThePolicyAndItsKnobs) {
  auto c = LockConfig::for_policy<Py3Gil>();
  c.of<Py3Gil>().switch_interval = std::chrono::microseconds(500);
  EXPECT_EQ(describe(c), "py3 (switch-interval 500us, force-switching true)");
  EXPECT_EQ(describe(LockConfig::for_policy<NoGil>()), "none");
}

TEST(CatalogueTest, OutOfRangeKnobIsRejectedNamingPolicyAndOption) {
  auto c = LockConfig::for_policy<Py2Gil>();
  c.of<Py2Gil>().check_interval = 0;
  try {
    c.validate();
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "py2 check-interval must be in [1, 1000000000], got 0");
  }
}

TEST(CatalogueTest, JsonListCarriesKnobsAndCounters) {
  const auto j = catalogue_json();
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), catalogue().size());
  for (std::size_t i = 0; i < j.size(); ++i) {
    const auto& p = catalogue()[i];
    EXPECT_EQ(j[i]["name"], p.info.name);
    EXPECT_EQ(j[i]["knobs"].size(), p.knobs.size());
    EXPECT_EQ(j[i]["counters"].size(), p.counters.size());
    for (const auto& k : j[i]["knobs"]) {
      for (const auto* key : {"option", "type", "default", "help"}) EXPECT_TRUE(k.contains(key));
    }
  }
}

}  // namespace
}  // namespace gilcore
