// Curve names and values: the 61 Live Link Face names (the default static data), name normalisation,
// which curves are signed rotations, and how a received value becomes a pushed one. Standard library only.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace Pmmtalk
{

/** The 61 values of a Live Link Face packet in wire order (docs/protocol.md section 3.2), Unreal's spelling. */
inline constexpr std::string_view LiveLinkFaceNames[] = {
	"EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft",
	"EyeSquintLeft", "EyeWideLeft",
	"EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight", "EyeLookOutRight", "EyeLookUpRight",
	"EyeSquintRight", "EyeWideRight",
	"JawForward", "JawLeft", "JawRight", "JawOpen",
	"MouthClose", "MouthFunnel", "MouthPucker", "MouthLeft", "MouthRight",
	"MouthSmileLeft", "MouthSmileRight", "MouthFrownLeft", "MouthFrownRight",
	"MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft", "MouthStretchRight",
	"MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper",
	"MouthPressLeft", "MouthPressRight", "MouthLowerDownLeft", "MouthLowerDownRight",
	"MouthUpperUpLeft", "MouthUpperUpRight",
	"BrowDownLeft", "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft", "BrowOuterUpRight",
	"CheekPuff", "CheekSquintLeft", "CheekSquintRight",
	"NoseSneerLeft", "NoseSneerRight",
	"TongueOut",
	"HeadYaw", "HeadPitch", "HeadRoll",
	"LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
	"RightEyeYaw", "RightEyePitch", "RightEyeRoll",
};
constexpr size_t NumLiveLinkFaceNames = sizeof(LiveLinkFaceNames) / sizeof(LiveLinkFaceNames[0]);
static_assert(NumLiveLinkFaceNames == 61, "Live Link Face sends 61 values");

/** Index of the first rotation (HeadYaw) in LiveLinkFaceNames: the last nine are signed radians. */
constexpr size_t FirstRotationIndex = 52;

/**
 * Longest curve or subject name accepted, in UTF-8 bytes. Unreal's FName holds at most 1023 characters
 * (longer is a fatal error in the engine), and a UTF-8 string never has fewer bytes than UTF-16 units.
 */
constexpr size_t MaxNameBytes = 1000;

/** Longest subject, in UTF-8 bytes (docs/protocol.md section 2.8). */
constexpr size_t MaxSubjectBytes = 255;

inline char AsciiLower(char Character)
{
	return (Character >= 'A' && Character <= 'Z') ? char(Character - 'A' + 'a') : Character;
}

/** Equal ignoring ASCII case: how Unreal's FName compares (curve names and subject names alike). */
inline bool EqualsIgnoreCase(std::string_view Left, std::string_view Right)
{
	if (Left.size() != Right.size())
	{
		return false;
	}
	for (size_t Index = 0; Index < Left.size(); ++Index)
	{
		if (AsciiLower(Left[Index]) != AsciiLower(Right[Index]))
		{
			return false;
		}
	}
	return true;
}

inline std::string LowerAscii(std::string_view Text)
{
	std::string Lower(Text);
	for (char& Character : Lower)
	{
		Character = AsciiLower(Character);
	}
	return Lower;
}

/** Well-formed UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF) with no NUL. */
inline bool IsValidUtf8(std::string_view Text)
{
	size_t Index = 0;
	while (Index < Text.size())
	{
		const unsigned char Lead = static_cast<unsigned char>(Text[Index]);
		if (Lead == 0)
		{
			return false;
		}
		if (Lead < 0x80)
		{
			++Index;
			continue;
		}
		size_t Length = 0;
		uint32_t CodePoint = 0;
		if (Lead >= 0xC2 && Lead <= 0xDF)
		{
			Length = 2;
			CodePoint = Lead & 0x1Fu;
		}
		else if (Lead >= 0xE0 && Lead <= 0xEF)
		{
			Length = 3;
			CodePoint = Lead & 0x0Fu;
		}
		else if (Lead >= 0xF0 && Lead <= 0xF4)
		{
			Length = 4;
			CodePoint = Lead & 0x07u;
		}
		else
		{
			return false;
		}
		if (Text.size() - Index < Length)
		{
			return false;
		}
		for (size_t Offset = 1; Offset < Length; ++Offset)
		{
			const unsigned char Continuation = static_cast<unsigned char>(Text[Index + Offset]);
			if ((Continuation & 0xC0u) != 0x80u)
			{
				return false;
			}
			CodePoint = (CodePoint << 6) | (Continuation & 0x3Fu);
		}
		const uint32_t Smallest = Length == 2 ? 0x80u : (Length == 3 ? 0x800u : 0x10000u);
		if (CodePoint < Smallest || CodePoint > 0x10FFFFu || (CodePoint >= 0xD800u && CodePoint <= 0xDFFFu))
		{
			return false;
		}
		Index += Length;
	}
	return true;
}

/**
 * A subject Live Link can show: 1..MaxSubjectBytes bytes of UTF-8, no control characters, and not
 * "None" (any case), which Unreal reads as the empty name.
 */
inline bool IsValidSubject(std::string_view Subject)
{
	if (Subject.empty() || Subject.size() > MaxSubjectBytes || !IsValidUtf8(Subject) || EqualsIgnoreCase(Subject, "None"))
	{
		return false;
	}
	for (const char Character : Subject)
	{
		const unsigned char Byte = static_cast<unsigned char>(Character);
		if (Byte < 32 || Byte == 127)
		{
			return false;
		}
	}
	return true;
}

/** A curve name Unreal can hold as an FName: 1..MaxNameBytes bytes of UTF-8, not "None". */
inline bool IsValidCurveName(std::string_view Name)
{
	return !Name.empty() && Name.size() <= MaxNameBytes && IsValidUtf8(Name) && !EqualsIgnoreCase(Name, "None");
}

/** Index of Name in LiveLinkFaceNames ignoring case, or -1. */
inline int FindLiveLinkFaceName(std::string_view Name)
{
	for (size_t Index = 0; Index < NumLiveLinkFaceNames; ++Index)
	{
		if (EqualsIgnoreCase(Name, LiveLinkFaceNames[Index]))
		{
			return int(Index);
		}
	}
	return -1;
}

/**
 * The name to publish: a Live Link Face name in any case (Apple's "jawOpen", "JAWOPEN") becomes Unreal's
 * spelling ("JawOpen"), so one curve has one spelling whatever the preset sent; other names (a VRM "aa")
 * are kept as they are.
 */
inline std::string NormaliseCurveName(std::string_view Name)
{
	const int Index = FindLiveLinkFaceName(Name);
	return Index >= 0 ? std::string(LiveLinkFaceNames[Index]) : std::string(Name);
}

/** Head and eye yaw/pitch/roll: signed radians, never clamped to 0..1. */
inline bool IsRotationCurve(std::string_view Name)
{
	const int Index = FindLiveLinkFaceName(Name);
	return Index >= int(FirstRotationIndex);
}

/** NaN and infinities become 0; blendshapes are clamped to 0..1, rotations kept as sent. */
inline float SanitiseValue(float Value, bool bIsRotation)
{
	if (!std::isfinite(Value))
	{
		return 0.0f;
	}
	if (bIsRotation)
	{
		return Value;
	}
	return Value < 0.0f ? 0.0f : (Value > 1.0f ? 1.0f : Value);
}

inline std::vector<std::string> DefaultCurveNames()
{
	return std::vector<std::string>(std::begin(LiveLinkFaceNames), std::end(LiveLinkFaceNames));
}

}  // namespace Pmmtalk
