// A few lines of test harness (no third-party framework to install): PMM_TEST(Name) registers a test;
// `binary --list` prints the names (CMake registers one ctest per name), `binary Name` runs one,
// `binary` runs all. CHECK records a failure and goes on; REQUIRE returns from the test.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace PmmTest
{
struct FTest
{
	std::string Name;
	std::function<void()> Function;
};

inline std::vector<FTest>& Registry()
{
	static std::vector<FTest> Tests;
	return Tests;
}

inline int& Failures()
{
	static int Count = 0;
	return Count;
}

struct FRegistrar
{
	FRegistrar(const char* Name, void (*Function)()) { Registry().push_back({Name, Function}); }
};

/** Tests made at run time (one per fixture scenario); call before RunMain. */
inline void Register(const std::string& Name, std::function<void()> Function)
{
	Registry().push_back({Name, std::move(Function)});
}

inline void Fail(const char* File, int Line, const std::string& What)
{
	++Failures();
	std::fprintf(stderr, "%s:%d: FAILED: %s\n", File, Line, What.c_str());
}

template <typename T>
std::string Show(const T& Value)
{
	std::ostringstream Stream;
	Stream.precision(9);
	Stream << Value;
	return Stream.str();
}

inline std::string Show(const std::string& Value) { return "'" + Value + "'"; }

inline int RunMain(int ArgumentCount, char** Arguments)
{
	if (ArgumentCount > 1 && std::strcmp(Arguments[1], "--list") == 0)
	{
		for (const FTest& Test : Registry())
		{
			std::printf("%s\n", Test.Name.c_str());
		}
		return 0;
	}
	int Ran = 0;
	for (const FTest& Test : Registry())
	{
		if (ArgumentCount > 1 && Test.Name != Arguments[1])
		{
			continue;
		}
		const int Before = Failures();
		Test.Function();
		std::printf("%s %s\n", Failures() == Before ? "ok  " : "FAIL", Test.Name.c_str());
		++Ran;
	}
	if (Ran == 0)
	{
		std::fprintf(stderr, "no test named %s\n", ArgumentCount > 1 ? Arguments[1] : "(any)");
		return 2;
	}
	return Failures() == 0 ? 0 : 1;
}
}  // namespace PmmTest

#define PMM_TEST(Name) \
	static void Name(); \
	static const PmmTest::FRegistrar Name##Registrar(#Name, &Name); \
	static void Name()

#define CHECK(Condition) \
	((Condition) ? (void)0 : PmmTest::Fail(__FILE__, __LINE__, #Condition))

#define CHECK_EQ(Actual, Expected) \
	do \
	{ \
		const auto& PmmActual = (Actual); \
		const auto& PmmExpected = (Expected); \
		if (!(PmmActual == PmmExpected)) \
		{ \
			PmmTest::Fail(__FILE__, __LINE__, std::string(#Actual " == " #Expected ": got ") + PmmTest::Show(PmmActual) \
				+ ", expected " + PmmTest::Show(PmmExpected)); \
		} \
	} while (0)

#define REQUIRE(Condition) \
	do \
	{ \
		if (!(Condition)) \
		{ \
			PmmTest::Fail(__FILE__, __LINE__, "required: " #Condition); \
			return; \
		} \
	} while (0)

#define PMM_TEST_MAIN() \
	int main(int ArgumentCount, char** Arguments) { return PmmTest::RunMain(ArgumentCount, Arguments); }
