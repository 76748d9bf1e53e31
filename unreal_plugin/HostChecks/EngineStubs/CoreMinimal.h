// Host-check stub of Unreal's CoreMinimal.h: just enough of Core's types, with the engine's spellings and
// semantics where the plugin depends on them, to compile and run the plugin's sources without Unreal.
// Not Epic's code: written from the public API (names, signatures, documented behaviour).
//
// Deliberate choices that make the host build stricter than the engine, never looser:
// - TCHAR is char16_t (as on Linux and Mac) and TEXT() makes u"" literals: mixing char and TCHAR fails;
// - FString::Printf checks its arguments against the format (a %s given an FString instead of *FString
//   fails to compile; a mismatch at run time aborts);
// - FName aborts on names of NAME_SIZE characters or more, as the engine does (a fatal error there);
// - TArray's operator[] is range-checked.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#ifndef WITH_EDITOR
#define WITH_EDITOR 1
#endif
#ifndef WITH_EDITORONLY_DATA
#define WITH_EDITORONLY_DATA WITH_EDITOR
#endif

typedef int8_t int8;
typedef int16_t int16;
typedef int32_t int32;
typedef int64_t int64;
typedef uint8_t uint8;
typedef uint16_t uint16;
typedef uint32_t uint32;
typedef uint64_t uint64;
typedef char ANSICHAR;
typedef char16_t TCHAR;
typedef char UTF8CHAR;

#define TEXT(Literal) u##Literal

namespace PmmStub
{
[[noreturn]] void Fatal(const char* File, int Line, const char* What);
std::string ToUtf8(const std::u16string& Text);
std::u16string FromUtf8(const char* Text);
}  // namespace PmmStub

#define check(Expression) ((Expression) ? (void)0 : ::PmmStub::Fatal(__FILE__, __LINE__, "check(" #Expression ") failed"))
#define checkf(Expression, ...) check(Expression)
#define checkNoEntry() ::PmmStub::Fatal(__FILE__, __LINE__, "checkNoEntry")

template <typename T>
typename std::remove_reference<T>::type&& MoveTemp(T&& Object)
{
	static_assert(std::is_lvalue_reference<T>::value, "MoveTemp called on an rvalue");
	static_assert(!std::is_const<typename std::remove_reference<T>::type>::value, "MoveTemp called on a const object");
	return static_cast<typename std::remove_reference<T>::type&&>(Object);
}

// --- TArray ---------------------------------------------------------------------------------------------

template <typename ElementType>
class TArray
{
public:
	TArray() = default;
	TArray(std::initializer_list<ElementType> Elements) : Data(Elements) {}

	int32 Num() const { return int32(Data.size()); }
	bool IsEmpty() const { return Data.empty(); }
	ElementType* GetData() { return Data.data(); }
	const ElementType* GetData() const { return Data.data(); }
	bool IsValidIndex(int32 Index) const { return Index >= 0 && Index < Num(); }

	ElementType& operator[](int32 Index)
	{
		check(IsValidIndex(Index));
		return Data[size_t(Index)];
	}
	const ElementType& operator[](int32 Index) const
	{
		check(IsValidIndex(Index));
		return Data[size_t(Index)];
	}

	int32 Add(const ElementType& Element)
	{
		Data.push_back(Element);
		return Num() - 1;
	}
	int32 Add(ElementType&& Element)
	{
		Data.push_back(std::move(Element));
		return Num() - 1;
	}
	template <typename... ArgTypes>
	int32 Emplace(ArgTypes&&... Args)
	{
		Data.emplace_back(std::forward<ArgTypes>(Args)...);
		return Num() - 1;
	}
	void Reserve(int32 Number)
	{
		check(Number >= 0);
		Data.reserve(size_t(Number));
	}
	void SetNum(int32 Number)
	{
		check(Number >= 0);
		Data.resize(size_t(Number));
	}
	void SetNumUninitialized(int32 Number) { SetNum(Number); }
	void SetNumZeroed(int32 Number) { SetNum(Number); }
	void Empty() { Data.clear(); }
	void Reset() { Data.clear(); }
	void RemoveAt(int32 Index, int32 Count = 1, bool /*bAllowShrinking*/ = true)
	{
		check(Index >= 0 && Count >= 0 && Index + Count <= Num());
		Data.erase(Data.begin() + Index, Data.begin() + Index + Count);
	}
	bool Contains(const ElementType& Element) const { return std::find(Data.begin(), Data.end(), Element) != Data.end(); }

	typename std::vector<ElementType>::iterator begin() { return Data.begin(); }
	typename std::vector<ElementType>::iterator end() { return Data.end(); }
	typename std::vector<ElementType>::const_iterator begin() const { return Data.begin(); }
	typename std::vector<ElementType>::const_iterator end() const { return Data.end(); }

private:
	std::vector<ElementType> Data;
};

template <typename KeyType, typename ValueType>
class TMap
{
public:
	ValueType& Add(const KeyType& Key, const ValueType& Value) { return Entries[Key] = Value; }
	int32 Num() const { return int32(Entries.size()); }
	const ValueType* Find(const KeyType& Key) const
	{
		const auto Found = Entries.find(Key);
		return Found == Entries.end() ? nullptr : &Found->second;
	}

private:
	std::map<KeyType, ValueType> Entries;
};

// --- FString, FName, FText ----------------------------------------------------------------------------

class FString
{
public:
	FString() = default;
	FString(const TCHAR* Text) : Characters(Text != nullptr ? Text : u"") {}
	explicit FString(std::u16string Text) : Characters(std::move(Text)) {}

	const TCHAR* operator*() const { return Characters.c_str(); }
	int32 Len() const { return int32(Characters.size()); }
	bool IsEmpty() const { return Characters.empty(); }
	void Reset() { Characters.clear(); }
	void Empty() { Characters.clear(); }
	const std::u16string& Stub() const { return Characters; }

	FString& operator+=(const FString& Other)
	{
		Characters += Other.Characters;
		return *this;
	}
	FString& operator+=(const TCHAR* Other)
	{
		Characters += Other;
		return *this;
	}
	friend FString operator+(const FString& Left, const FString& Right) { return FString(Left.Characters + Right.Characters); }
	friend FString operator+(const FString& Left, const TCHAR* Right) { return FString(Left.Characters + Right); }
	friend FString operator+(const TCHAR* Left, const FString& Right) { return FString(Left + Right.Characters); }
	/** FString compares ignoring case, like the engine's operator==. */
	friend bool operator==(const FString& Left, const FString& Right);
	friend bool operator!=(const FString& Left, const FString& Right) { return !(Left == Right); }
	bool Equals(const FString& Other) const { return Characters == Other.Characters; }

	FString TrimStartAndEnd() const
	{
		size_t First = 0;
		size_t Last = Characters.size();
		while (First < Last && (Characters[First] == u' ' || Characters[First] == u'\t'))
		{
			++First;
		}
		while (Last > First && (Characters[Last - 1] == u' ' || Characters[Last - 1] == u'\t'))
		{
			--Last;
		}
		return FString(Characters.substr(First, Last - First));
	}

	static FString FromInt(int32 Number) { return FString(PmmStub::FromUtf8(std::to_string(Number).c_str())); }

	template <typename... ArgTypes>
	static FString Printf(const TCHAR* Format, ArgTypes... Args);

private:
	std::u16string Characters;
};

namespace PmmStub
{
/** One Printf argument: the engine's Printf takes numbers and TCHAR strings (not FString: use *String). */
struct FFormatArgument
{
	enum class EKind
	{
		Signed,
		Unsigned,
		Floating,
		String,
		Pointer
	} Kind;
	long long SignedValue = 0;
	unsigned long long UnsignedValue = 0;
	double FloatingValue = 0.0;
	const TCHAR* StringValue = nullptr;
	const void* PointerValue = nullptr;
};

template <typename T>
FFormatArgument MakeFormatArgument(T Value)
{
	using Decayed = typename std::decay<T>::type;
	static_assert(std::is_arithmetic<Decayed>::value || std::is_enum<Decayed>::value
			|| std::is_same<Decayed, const TCHAR*>::value || std::is_same<Decayed, TCHAR*>::value
			|| std::is_pointer<Decayed>::value,
		"FString::Printf takes numbers and TCHAR strings: pass *SomeFString, not an FString");
	static_assert(!std::is_same<Decayed, const char*>::value && !std::is_same<Decayed, char*>::value,
		"FString::Printf's %s takes TCHAR strings, not char strings: convert with UTF8_TO_TCHAR");
	FFormatArgument Argument;
	if constexpr (std::is_same<Decayed, const TCHAR*>::value || std::is_same<Decayed, TCHAR*>::value)
	{
		Argument.Kind = FFormatArgument::EKind::String;
		Argument.StringValue = Value;
	}
	else if constexpr (std::is_pointer<Decayed>::value)
	{
		Argument.Kind = FFormatArgument::EKind::Pointer;
		Argument.PointerValue = static_cast<const void*>(Value);
	}
	else if constexpr (std::is_floating_point<Decayed>::value)
	{
		Argument.Kind = FFormatArgument::EKind::Floating;
		Argument.FloatingValue = double(Value);
	}
	else if constexpr (std::is_enum<Decayed>::value)
	{
		Argument.Kind = FFormatArgument::EKind::Signed;
		Argument.SignedValue = static_cast<long long>(Value);
	}
	else if constexpr (std::is_signed<Decayed>::value)
	{
		Argument.Kind = FFormatArgument::EKind::Signed;
		Argument.SignedValue = static_cast<long long>(Value);
	}
	else
	{
		Argument.Kind = FFormatArgument::EKind::Unsigned;
		Argument.UnsignedValue = static_cast<unsigned long long>(Value);
	}
	return Argument;
}

/** printf-style formatting checked against the arguments' kinds; aborts on a mismatch. */
std::u16string FormatChecked(const TCHAR* Format, const std::vector<FFormatArgument>& Arguments);
}  // namespace PmmStub

template <typename... ArgTypes>
FString FString::Printf(const TCHAR* Format, ArgTypes... Args)
{
	const std::vector<PmmStub::FFormatArgument> Arguments = {PmmStub::MakeFormatArgument(Args)...};
	return FString(PmmStub::FormatChecked(Format, Arguments));
}

/** What UTF8_TO_TCHAR / TCHAR_TO_UTF8 return: a converted copy living until the end of the full expression. */
namespace PmmStub
{
class FUtf8ToTchar
{
public:
	explicit FUtf8ToTchar(const ANSICHAR* Text) : Converted(FromUtf8(Text)) {}
	const TCHAR* Get() const { return Converted.c_str(); }
	int32 Length() const { return int32(Converted.size()); }

private:
	std::u16string Converted;
};

class FTcharToUtf8
{
public:
	explicit FTcharToUtf8(const TCHAR* Text) : Converted(ToUtf8(Text != nullptr ? Text : u"")) {}
	const ANSICHAR* Get() const { return Converted.c_str(); }
	int32 Length() const { return int32(Converted.size()); }

private:
	std::string Converted;
};
}  // namespace PmmStub

#define UTF8_TO_TCHAR(Text) (::PmmStub::FUtf8ToTchar((const ANSICHAR*)(Text)).Get())
#define TCHAR_TO_UTF8(Text) (::PmmStub::FTcharToUtf8((const TCHAR*)(Text)).Get())

/** The engine's longest FName is NAME_SIZE - 1 characters; more is a fatal error. */
constexpr int32 NAME_SIZE = 1024;

class FName
{
public:
	FName() = default;
	FName(const TCHAR* Text);
	FName(const FString& Text) : FName(*Text) {}

	FString ToString() const { return FString(Characters); }
	bool IsNone() const { return Characters.empty(); }
	/** Case-insensitive (ASCII), as the engine compares names. */
	friend bool operator==(const FName& Left, const FName& Right);
	friend bool operator!=(const FName& Left, const FName& Right) { return !(Left == Right); }
	friend bool operator<(const FName& Left, const FName& Right) { return Left.Lowered < Right.Lowered; }

private:
	std::u16string Characters;
	std::u16string Lowered;
};

extern const FName NAME_None;

class FText
{
public:
	FText() = default;
	static FText FromString(const FString& Text)
	{
		FText Result;
		Result.Text = Text;
		return Result;
	}
	static FText FromString(FString&& Text)
	{
		FText Result;
		Result.Text = std::move(Text);
		return Result;
	}
	const FString& ToString() const { return Text; }
	bool IsEmpty() const { return Text.IsEmpty(); }

private:
	FString Text;
};

#define LOCTEXT(Key, Text) FText::FromString(FString(TEXT(Text)))
#define NSLOCTEXT(Namespace, Key, Text) FText::FromString(FString(TEXT(Text)))

// --- Smart pointers ------------------------------------------------------------------------------------

enum class ESPMode : uint8
{
	NotThreadSafe,
	ThreadSafe
};

template <typename ObjectType, ESPMode Mode = ESPMode::ThreadSafe>
class TSharedRef;

template <typename ObjectType, ESPMode Mode = ESPMode::ThreadSafe>
class TSharedPtr
{
public:
	TSharedPtr() = default;
	TSharedPtr(std::nullptr_t) {}
	template <typename OtherType, typename = typename std::enable_if<std::is_convertible<OtherType*, ObjectType*>::value>::type>
	TSharedPtr(const TSharedPtr<OtherType, Mode>& Other) : Pointer(Other.Stub())
	{
	}
	template <typename OtherType, typename = typename std::enable_if<std::is_convertible<OtherType*, ObjectType*>::value>::type>
	TSharedPtr(const TSharedRef<OtherType, Mode>& Other) : Pointer(Other.Stub())
	{
	}
	explicit TSharedPtr(std::shared_ptr<ObjectType> InPointer) : Pointer(std::move(InPointer)) {}

	bool IsValid() const { return Pointer != nullptr; }
	explicit operator bool() const { return IsValid(); }
	ObjectType* Get() const { return Pointer.get(); }
	ObjectType* operator->() const
	{
		check(IsValid());
		return Pointer.get();
	}
	ObjectType& operator*() const
	{
		check(IsValid());
		return *Pointer;
	}
	void Reset() { Pointer.reset(); }
	TSharedRef<ObjectType, Mode> ToSharedRef() const
	{
		check(IsValid());
		return TSharedRef<ObjectType, Mode>(Pointer);
	}
	const std::shared_ptr<ObjectType>& Stub() const { return Pointer; }

	friend bool operator==(const TSharedPtr& Left, const TSharedPtr& Right) { return Left.Pointer == Right.Pointer; }
	friend bool operator!=(const TSharedPtr& Left, const TSharedPtr& Right) { return Left.Pointer != Right.Pointer; }

private:
	std::shared_ptr<ObjectType> Pointer;
};

template <typename ObjectType, ESPMode Mode>
class TSharedRef
{
public:
	template <typename OtherType, typename = typename std::enable_if<std::is_convertible<OtherType*, ObjectType*>::value>::type>
	TSharedRef(const TSharedRef<OtherType, Mode>& Other) : Pointer(Other.Stub())
	{
	}
	explicit TSharedRef(std::shared_ptr<ObjectType> InPointer) : Pointer(std::move(InPointer)) { check(Pointer != nullptr); }

	ObjectType* operator->() const { return Pointer.get(); }
	ObjectType& Get() const { return *Pointer; }
	const std::shared_ptr<ObjectType>& Stub() const { return Pointer; }

private:
	std::shared_ptr<ObjectType> Pointer;
};

template <typename ObjectType, ESPMode Mode = ESPMode::ThreadSafe, typename... ArgTypes>
TSharedRef<ObjectType, Mode> MakeShared(ArgTypes&&... Args)
{
	return TSharedRef<ObjectType, Mode>(std::make_shared<ObjectType>(std::forward<ArgTypes>(Args)...));
}

namespace PmmStub
{
template <typename ObjectType>
struct FRawPointerForSharing
{
	ObjectType* Object;
	template <typename OtherType, ESPMode Mode>
	operator TSharedPtr<OtherType, Mode>() const
	{
		return TSharedPtr<OtherType, Mode>(std::shared_ptr<OtherType>(Object));
	}
	template <typename OtherType, ESPMode Mode>
	operator TSharedRef<OtherType, Mode>() const
	{
		return TSharedRef<OtherType, Mode>(std::shared_ptr<OtherType>(Object));
	}
};
}  // namespace PmmStub

template <typename ObjectType>
PmmStub::FRawPointerForSharing<ObjectType> MakeShareable(ObjectType* Object)
{
	return PmmStub::FRawPointerForSharing<ObjectType>{Object};
}

template <typename ObjectType>
class TUniquePtr
{
public:
	TUniquePtr() = default;
	TUniquePtr(std::nullptr_t) {}
	explicit TUniquePtr(ObjectType* Object) : Pointer(Object) {}
	template <typename OtherType>
	TUniquePtr(TUniquePtr<OtherType>&& Other) : Pointer(Other.Release())
	{
	}

	bool IsValid() const { return Pointer != nullptr; }
	explicit operator bool() const { return IsValid(); }
	ObjectType* Get() const { return Pointer.get(); }
	ObjectType* operator->() const
	{
		check(IsValid());
		return Pointer.get();
	}
	ObjectType* Release() { return Pointer.release(); }
	void Reset(ObjectType* Object = nullptr) { Pointer.reset(Object); }

private:
	std::unique_ptr<ObjectType> Pointer;
};

template <typename ObjectType, typename... ArgTypes>
TUniquePtr<ObjectType> MakeUnique(ArgTypes&&... Args)
{
	return TUniquePtr<ObjectType>(new ObjectType(std::forward<ArgTypes>(Args)...));
}

// --- FGuid ----------------------------------------------------------------------------------------------

struct FGuid
{
	uint32 A = 0;
	uint32 B = 0;
	uint32 C = 0;
	uint32 D = 0;

	FGuid() = default;
	FGuid(uint32 InA, uint32 InB, uint32 InC, uint32 InD) : A(InA), B(InB), C(InC), D(InD) {}
	static FGuid NewGuid();
	bool IsValid() const { return (A | B | C | D) != 0; }
	friend bool operator==(const FGuid& Left, const FGuid& Right)
	{
		return Left.A == Right.A && Left.B == Right.B && Left.C == Right.C && Left.D == Right.D;
	}
	friend bool operator!=(const FGuid& Left, const FGuid& Right) { return !(Left == Right); }
};

// --- Frame times (Misc/FrameNumber.h, FrameTime.h, FrameRate.h, QualifiedFrameTime.h; all in Core) -----

struct FFrameNumber
{
	int32 Value = 0;
	FFrameNumber() = default;
	FFrameNumber(int32 InValue) : Value(InValue) {}
};

struct FFrameTime
{
	FFrameTime() = default;
	FFrameTime(int32 InFrameNumber) : FrameNumber(InFrameNumber) {}
	FFrameTime(FFrameNumber InFrameNumber) : FrameNumber(InFrameNumber) {}
	/** The engine asserts 0 <= SubFrame < 1; so does this stub, in every build. */
	FFrameTime(FFrameNumber InFrameNumber, float InSubFrame) : FrameNumber(InFrameNumber), SubFrame(InSubFrame)
	{
		check(InSubFrame >= 0.0f && InSubFrame < 1.0f);
	}
	FFrameNumber GetFrame() const { return FrameNumber; }
	float GetSubFrame() const { return SubFrame; }

	FFrameNumber FrameNumber;

private:
	float SubFrame = 0.0f;
};

struct FFrameRate
{
	FFrameRate() = default;
	FFrameRate(uint32 InNumerator, uint32 InDenominator) : Numerator(int32(InNumerator)), Denominator(int32(InDenominator))
	{
	}
	int32 Numerator = 60;
	int32 Denominator = 1;
};

struct FQualifiedFrameTime
{
	FQualifiedFrameTime() = default;
	FQualifiedFrameTime(const FFrameTime& InTime, const FFrameRate& InRate) : Time(InTime), Rate(InRate) {}
	FFrameTime Time;
	FFrameRate Rate;
};

// --- Delegates (the part of DECLARE_DELEGATE the plugin uses: BindRaw, ExecuteIfBound) ---------------

template <typename Signature>
class TDelegate;

template <typename... ParamTypes>
class TDelegate<void(ParamTypes...)>
{
public:
	template <typename UserClass>
	void BindRaw(UserClass* Object, void (UserClass::*Method)(ParamTypes...))
	{
		Function = [Object, Method](ParamTypes... Params) { (Object->*Method)(Params...); };
	}
	template <typename FunctorType>
	void BindLambda(FunctorType&& Functor)
	{
		Function = std::forward<FunctorType>(Functor);
	}
	bool IsBound() const { return static_cast<bool>(Function); }
	void Unbind() { Function = nullptr; }
	bool ExecuteIfBound(ParamTypes... Params) const
	{
		if (!Function)
		{
			return false;
		}
		Function(Params...);
		return true;
	}

private:
	std::function<void(ParamTypes...)> Function;
};

#define DECLARE_DELEGATE_OneParam(Name, Param1) using Name = TDelegate<void(Param1)>
#define DECLARE_DELEGATE_TwoParams(Name, Param1, Param2) using Name = TDelegate<void(Param1, Param2)>

// --- Logging (Logging/LogMacros.h) ----------------------------------------------------------------------

namespace ELogVerbosity
{
enum Type : uint8
{
	NoLogging,
	Fatal,
	Error,
	Warning,
	Display,
	Log,
	Verbose,
	VeryVerbose,
	All
};
}

struct FLogCategoryBase
{
	explicit FLogCategoryBase(const char* InName) : Name(InName) {}
	const char* Name;
};

namespace PmmStub
{
void WriteLog(const FLogCategoryBase& Category, ELogVerbosity::Type Verbosity, const FString& Message);
}

#define DECLARE_LOG_CATEGORY_EXTERN(CategoryName, DefaultVerbosity, CompileTimeVerbosity) \
	extern FLogCategoryBase CategoryName
#define DEFINE_LOG_CATEGORY(CategoryName) FLogCategoryBase CategoryName(#CategoryName)
#define UE_LOG(CategoryName, Verbosity, Format, ...) \
	::PmmStub::WriteLog(CategoryName, ELogVerbosity::Verbosity, FString::Printf(Format, ##__VA_ARGS__))
