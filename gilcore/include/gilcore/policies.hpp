#pragma once

#include <cstddef>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "gilcore/policy_bfs.hpp"
#include "gilcore/policy_fifo.hpp"
#include "gilcore/policy_none.hpp"
#include "gilcore/policy_priority.hpp"
#include "gilcore/policy_py2.hpp"
#include "gilcore/policy_py3.hpp"
#include "gilcore/policy_pypy.hpp"
#include "gilcore/policy_ruby.hpp"

namespace gilcore {

/// A list of policy types and what is derived from it.
template <class... P>
struct PolicyList {
  static constexpr std::size_t kCount = sizeof...(P);
  /// The policy objects, one alternative per policy; built in place (policies do not move).
  using Variant = std::variant<P...>;
  /// One configuration per policy, in list order.
  using Configs = std::tuple<typename P::Config...>;

  /// The position of Q in the list.
  template <class Q>
  static constexpr std::size_t index_of() noexcept {
    static_assert((std::is_same_v<Q, P> || ...), "not a policy on the list");
    std::size_t i = 0;
    ((std::is_same_v<Q, P> ? false : (++i, true)) && ...);
    return i;
  }
  /// Calls f(std::type_identity<Q>{}) for every policy Q, in list order.
  template <class F>
  static constexpr void for_each(F&& f) {
    (f(std::type_identity<P>{}), ...);
  }
  /// Calls f(std::type_identity<Q>{}) for the policy at `index`; returns what f returns.
  template <class F>
  static decltype(auto) with_index(std::size_t index, F&& f) {
    using R = decltype(f(std::type_identity<std::tuple_element_t<0, std::tuple<P...>>>{}));
    return with_index_impl<R>(index, f, std::index_sequence_for<P...>{});
  }
  /// Re-expresses the list as another template's arguments: testing::Types, say.
  template <template <class...> class T>
  using Apply = T<P...>;

 private:
  template <class R, class F, std::size_t... I>
  static R with_index_impl(std::size_t index, F& f, std::index_sequence<I...>) {
    using Fn = R (*)(F&);
    static constexpr Fn kTable[] = {[](F& g) -> R {
      return g(std::type_identity<std::tuple_element_t<I, std::tuple<P...>>>{});
    }...};
    return kTable[index](f);
  }
};

/// Every policy gilcore has, in the order --list-policies shows them. To add one: its header and
/// source, an entry here (and its #include above), a line in gilcore/CMakeLists.txt.
using Policies = PolicyList<NoGil, Py2Gil, Py3Gil, FifoGil, PriorityGil, BfsGil, RubyGvl, PyPyGil>;

/// Which policy: its position on the list.
enum class PolicyKind : int {};

/// The kind of policy P.
template <class P>
constexpr PolicyKind kind_of() noexcept {
  return static_cast<PolicyKind>(Policies::index_of<P>());
}

/// The object holding whichever policy was chosen; visited once per thread.
using AnyPolicy = Policies::Variant;

}  // namespace gilcore
