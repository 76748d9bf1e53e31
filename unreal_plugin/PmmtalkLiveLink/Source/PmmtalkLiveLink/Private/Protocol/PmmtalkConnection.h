// A source's configuration and its connection string: what Live Link stores in a preset and hands back to
// the factory to recreate the source. Standard library only; integers only (no locale-dependent parsing).
//
// Format: Key=Value pairs separated by ';', e.g.
//   Port=9000;BindAddress=127.0.0.1;Subjects=Ada,Bob;KeepAlive=1;NeutralAfterMs=0;Vmc=0;VmcSubject=VMC
// Values are percent-encoded where they hold '%', ';', '=', spaces or bytes outside printable ASCII.
// Unknown keys are ignored (a preset from a newer plugin still loads); a bad value is an error.
#pragma once

#include "PmmtalkCurves.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace Pmmtalk
{

constexpr int32_t DefaultPort = 9000;
constexpr int32_t DefaultVmcPort = 39539;  // where VMC senders send by default (docs/reference/curves.md)
inline constexpr std::string_view DefaultBindAddress = "127.0.0.1";
inline constexpr std::string_view DefaultSubject = "pmmtalk";  // the daemon's default subject
inline constexpr std::string_view DefaultVmcSubject = "VMC";
constexpr int32_t MaxNeutralAfterMs = 24 * 3600 * 1000;

/** Everything a source needs to start. Defaults: the daemon's defaults, listening on this machine only. */
struct FSourceConfig
{
	int32_t Port = DefaultPort;
	std::string BindAddress = std::string(DefaultBindAddress);
	/** Comma-separated subjects to receive; empty receives every subject. */
	std::string Subjects;
	/** Re-push the last frame while a subject is quiet, so Live Link keeps it alive. */
	bool bKeepAlive = true;
	/** After this long quiet, the kept-alive frame is neutral (all 0) instead of the last pose; 0: never. */
	int32_t NeutralAfterMs = 0;
	/** Also accept VMC blend shapes (/VMC/Ext/Blend/Val, /VMC/Ext/Blend/Apply) as subject VmcSubject. */
	bool bReceiveVmc = false;
	std::string VmcSubject = std::string(DefaultVmcSubject);

	bool operator==(const FSourceConfig& Other) const
	{
		return Port == Other.Port && BindAddress == Other.BindAddress && Subjects == Other.Subjects
			&& bKeepAlive == Other.bKeepAlive && NeutralAfterMs == Other.NeutralAfterMs
			&& bReceiveVmc == Other.bReceiveVmc && VmcSubject == Other.VmcSubject;
	}
	bool operator!=(const FSourceConfig& Other) const { return !(*this == Other); }
};

/** Dotted-quad IPv4 ("127.0.0.1", "0.0.0.0"): four decimal numbers 0..255, no leading '+', no spaces. */
inline bool IsIPv4Address(std::string_view Text)
{
	int Parts = 0;
	size_t Index = 0;
	while (Parts < 4)
	{
		size_t Digits = 0;
		int Value = 0;
		while (Index < Text.size() && Text[Index] >= '0' && Text[Index] <= '9' && Digits < 3)
		{
			Value = Value * 10 + (Text[Index] - '0');
			++Index;
			++Digits;
		}
		if (Digits == 0 || Value > 255)
		{
			return false;
		}
		++Parts;
		if (Parts < 4)
		{
			if (Index >= Text.size() || Text[Index] != '.')
			{
				return false;
			}
			++Index;
		}
	}
	return Index == Text.size();
}

inline std::string_view TrimSpaces(std::string_view Text)
{
	while (!Text.empty() && (Text.front() == ' ' || Text.front() == '\t'))
	{
		Text.remove_prefix(1);
	}
	while (!Text.empty() && (Text.back() == ' ' || Text.back() == '\t'))
	{
		Text.remove_suffix(1);
	}
	return Text;
}

/** "Ada, Bob,,ada" -> {"Ada", "Bob"}: trimmed, empty entries dropped, duplicates (ignoring case) dropped. */
inline std::vector<std::string> SplitSubjects(std::string_view List)
{
	std::vector<std::string> Subjects;
	while (true)
	{
		const size_t Comma = List.find(',');
		const std::string_view Entry = TrimSpaces(List.substr(0, Comma));
		if (!Entry.empty())
		{
			bool bSeen = false;
			for (const std::string& Existing : Subjects)
			{
				bSeen = bSeen || EqualsIgnoreCase(Existing, Entry);
			}
			if (!bSeen)
			{
				Subjects.emplace_back(Entry);
			}
		}
		if (Comma == std::string_view::npos)
		{
			break;
		}
		List.remove_prefix(Comma + 1);
	}
	return Subjects;
}

/** Why a configuration cannot start a source, or empty if it can. */
inline std::string ValidateConfig(const FSourceConfig& Config)
{
	if (Config.Port < 1 || Config.Port > 65535)
	{
		return "port " + std::to_string(Config.Port) + " is not 1..65535";
	}
	if (!IsIPv4Address(Config.BindAddress))
	{
		return "bind address '" + Config.BindAddress + "' is not an IPv4 address such as 127.0.0.1 or 0.0.0.0";
	}
	for (const std::string& Subject : SplitSubjects(Config.Subjects))
	{
		if (!IsValidSubject(Subject))
		{
			return "subject '" + Subject + "' is not a valid subject name";
		}
	}
	if (Config.NeutralAfterMs < 0 || Config.NeutralAfterMs > MaxNeutralAfterMs)
	{
		return "neutral-after time " + std::to_string(Config.NeutralAfterMs) + " ms is not 0..86400000";
	}
	if (Config.bReceiveVmc && !IsValidSubject(Config.VmcSubject))
	{
		return "VMC subject '" + Config.VmcSubject + "' is not a valid subject name";
	}
	return std::string();
}

namespace Detail
{
inline bool NeedsEscape(unsigned char Byte)
{
	// Spaces too: values are trimmed when read, so an escaped space is the only kind that survives.
	return Byte == '%' || Byte == ';' || Byte == '=' || Byte <= 0x20 || Byte >= 0x7F;
}

inline std::string PercentEncode(std::string_view Text)
{
	static constexpr char Hex[] = "0123456789ABCDEF";
	std::string Encoded;
	Encoded.reserve(Text.size());
	for (const char Character : Text)
	{
		const unsigned char Byte = static_cast<unsigned char>(Character);
		if (NeedsEscape(Byte))
		{
			Encoded.push_back('%');
			Encoded.push_back(Hex[Byte >> 4]);
			Encoded.push_back(Hex[Byte & 0x0F]);
		}
		else
		{
			Encoded.push_back(Character);
		}
	}
	return Encoded;
}

inline int HexValue(char Character)
{
	if (Character >= '0' && Character <= '9')
	{
		return Character - '0';
	}
	if (Character >= 'a' && Character <= 'f')
	{
		return Character - 'a' + 10;
	}
	if (Character >= 'A' && Character <= 'F')
	{
		return Character - 'A' + 10;
	}
	return -1;
}

inline bool PercentDecode(std::string_view Text, std::string& Out)
{
	Out.clear();
	Out.reserve(Text.size());
	for (size_t Index = 0; Index < Text.size(); ++Index)
	{
		if (Text[Index] != '%')
		{
			Out.push_back(Text[Index]);
			continue;
		}
		if (Text.size() - Index < 3)
		{
			return false;
		}
		const int High = HexValue(Text[Index + 1]);
		const int Low = HexValue(Text[Index + 2]);
		if (High < 0 || Low < 0)
		{
			return false;
		}
		Out.push_back(char(High * 16 + Low));
		Index += 2;
	}
	return true;
}

/** A non-negative decimal integer of at most 9 digits (no sign, no spaces). */
inline bool ParseSmallInt(std::string_view Text, int32_t& Out)
{
	if (Text.empty() || Text.size() > 9)
	{
		return false;
	}
	int32_t Value = 0;
	for (const char Character : Text)
	{
		if (Character < '0' || Character > '9')
		{
			return false;
		}
		Value = Value * 10 + (Character - '0');
	}
	Out = Value;
	return true;
}

inline bool ParseBool(std::string_view Text, bool& Out)
{
	if (Text == "1" || EqualsIgnoreCase(Text, "true") || EqualsIgnoreCase(Text, "yes"))
	{
		Out = true;
		return true;
	}
	if (Text == "0" || EqualsIgnoreCase(Text, "false") || EqualsIgnoreCase(Text, "no"))
	{
		Out = false;
		return true;
	}
	return false;
}
}  // namespace Detail

/** The connection string for Config; ParseConnectionString reads it back to an equal config. */
inline std::string ToConnectionString(const FSourceConfig& Config)
{
	return "Port=" + std::to_string(Config.Port)
		+ ";BindAddress=" + Detail::PercentEncode(Config.BindAddress)
		+ ";Subjects=" + Detail::PercentEncode(Config.Subjects)
		+ ";KeepAlive=" + (Config.bKeepAlive ? "1" : "0")
		+ ";NeutralAfterMs=" + std::to_string(Config.NeutralAfterMs)
		+ ";Vmc=" + (Config.bReceiveVmc ? "1" : "0")
		+ ";VmcSubject=" + Detail::PercentEncode(Config.VmcSubject);
}

/**
 * Reads a connection string over InOutConfig (keys not given keep their values: start from the defaults).
 * Returns an empty string on success, else why it failed (InOutConfig is then unchanged). The result is
 * also checked with ValidateConfig.
 */
inline std::string ParseConnectionString(std::string_view Text, FSourceConfig& InOutConfig)
{
	FSourceConfig Config = InOutConfig;
	while (!Text.empty())
	{
		const size_t Semicolon = Text.find(';');
		const std::string_view Pair = TrimSpaces(Text.substr(0, Semicolon));
		Text = Semicolon == std::string_view::npos ? std::string_view() : Text.substr(Semicolon + 1);
		if (Pair.empty())
		{
			continue;
		}
		const size_t Equals = Pair.find('=');
		if (Equals == std::string_view::npos)
		{
			return "'" + std::string(Pair) + "' is not Key=Value";
		}
		const std::string_view Key = TrimSpaces(Pair.substr(0, Equals));
		std::string Value;
		if (!Detail::PercentDecode(TrimSpaces(Pair.substr(Equals + 1)), Value))
		{
			return "bad %-escape in the value of " + std::string(Key);
		}
		bool bOk = true;
		if (EqualsIgnoreCase(Key, "Port"))
		{
			bOk = Detail::ParseSmallInt(Value, Config.Port);
		}
		else if (EqualsIgnoreCase(Key, "BindAddress"))
		{
			Config.BindAddress = Value;
		}
		else if (EqualsIgnoreCase(Key, "Subjects"))
		{
			Config.Subjects = Value;
		}
		else if (EqualsIgnoreCase(Key, "KeepAlive"))
		{
			bOk = Detail::ParseBool(Value, Config.bKeepAlive);
		}
		else if (EqualsIgnoreCase(Key, "NeutralAfterMs"))
		{
			bOk = Detail::ParseSmallInt(Value, Config.NeutralAfterMs);
		}
		else if (EqualsIgnoreCase(Key, "Vmc"))
		{
			bOk = Detail::ParseBool(Value, Config.bReceiveVmc);
		}
		else if (EqualsIgnoreCase(Key, "VmcSubject"))
		{
			Config.VmcSubject = Value;
		}
		if (!bOk)
		{
			return "bad value '" + Value + "' for " + std::string(Key);
		}
	}
	std::string Problem = ValidateConfig(Config);
	if (Problem.empty())
	{
		InOutConfig = Config;
	}
	return Problem;
}

}  // namespace Pmmtalk
